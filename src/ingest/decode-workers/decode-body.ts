import { MetricstorError } from '../../errors.js';
import type { LabelCache } from '../label-cache.js';
import { decodeWriteRequestV1 } from '../remote-write/decode-v1.js';
import { decodeWriteRequestV2 } from '../remote-write/decode-v2.js';
import { resolveScannedV1 } from '../remote-write/resolve-v1.js';
import { decodeSnappyBlock } from '../remote-write/snappy-block.js';
import type { DecodedWrite } from '../types.js';
import type { DecodePool } from './pool.js';
import type { RemoteWriteVersion } from './protocol.js';

/** A decoded request, and how to give back the memory it may still share with a decode worker. */
export interface DecodedBody {
  readonly write: DecodedWrite;
  /**
   * Call once nothing reads `write` any more (its samples may be views of a worker's buffers,
   * which are then moved back to it). Calling it again does nothing.
   */
  readonly release: () => void;
}

const NOTHING_TO_RELEASE = (): void => {};

/**
 * Decodes a compressed remote write body, on a pool's worker when there is one (the body's bytes
 * may then be moved away), else on this thread. Both ways give the same result and the same errors.
 */
export async function decodeRemoteWriteBody(
  version: RemoteWriteVersion,
  body: Uint8Array,
  maxDecodedBytes: number,
  cache: LabelCache | undefined,
  pool: DecodePool | undefined,
): Promise<DecodedBody> {
  if (pool === undefined) {
    return { write: decodeDecompressed(version, decodeSnappyBlock(body, maxDecodedBytes), cache), release: NOTHING_TO_RELEASE };
  }
  const { reply, labelIds, release } = await pool.decode(version, body, maxDecodedBytes);
  try {
    switch (reply.kind) {
      case 'scanned': {
        const ids = { ids: reply.labelIds, table: labelIds, generation: reply.labelGeneration };
        return { write: resolveScannedV1(reply.scan, cache, ids), release };
      }
      case 'decompressed':
        return { write: decodeDecompressed(version, reply.body, cache), release };
      case 'refused':
        throw new MetricstorError(reply.errorType, reply.message);
      case 'failed':
        throw new Error(reply.message);
    }
  } catch (err) {
    release();
    throw err;
  }
}

function decodeDecompressed(version: RemoteWriteVersion, raw: Uint8Array, cache: LabelCache | undefined): DecodedWrite {
  return version === '2.0' ? decodeWriteRequestV2(raw) : decodeWriteRequestV1(raw, cache);
}

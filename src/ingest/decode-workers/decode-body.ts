import { MetricstorError } from '../../errors.js';
import type { LabelCache } from '../label-cache.js';
import { decodeWriteRequestV1 } from '../remote-write/decode-v1.js';
import { decodeWriteRequestV2 } from '../remote-write/decode-v2.js';
import { resolveScannedV1 } from '../remote-write/resolve-v1.js';
import { decodeSnappyBlock } from '../remote-write/snappy-block.js';
import type { DecodedWrite } from '../types.js';
import type { DecodePool } from './pool.js';
import type { RemoteWriteVersion } from './protocol.js';

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
): Promise<DecodedWrite> {
  if (pool === undefined) return decodeDecompressed(version, decodeSnappyBlock(body, maxDecodedBytes), cache);
  const { reply, labelIds } = await pool.decode(version, body, maxDecodedBytes);
  switch (reply.kind) {
    case 'scanned':
      return resolveScannedV1(reply.scan, cache, { ids: reply.labelIds, table: labelIds, generation: reply.labelGeneration });
    case 'decompressed':
      return decodeDecompressed(version, reply.body, cache);
    case 'refused':
      throw new MetricstorError(reply.errorType, reply.message);
    case 'failed':
      throw new Error(reply.message);
  }
}

function decodeDecompressed(version: RemoteWriteVersion, raw: Uint8Array, cache: LabelCache | undefined): DecodedWrite {
  return version === '2.0' ? decodeWriteRequestV2(raw) : decodeWriteRequestV1(raw, cache);
}

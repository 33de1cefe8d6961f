/**
 * The encodings a stored chunk value may carry (byte 0 of its header, docs/format/kv-keys.md) and
 * the one function every reader decodes them with.
 */
import { MetricstorError } from '../errors.js';
import { blockSampleCount, decodeBlock } from './block.js';
import { chunkNumSamples, decodeXorChunk } from './index.js';

/** Prometheus's XOR chunk (docs/format/chunks.md): what writers store and remote read serves. */
export const CHUNK_ENCODING_XOR = 0x01;
/** A compacted window (src/chunk/block.ts); only compaction writes it. */
export const CHUNK_ENCODING_BLOCK = 0x02;

export interface DecodedSamples {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

function unknownEncoding(encoding: number): MetricstorError {
  return new MetricstorError('internal', `chunk encoding ${encoding} is unknown`);
}

/** The samples of a stored chunk's data (the bytes after its header). Throws on an unknown encoding or corrupt bytes. */
export function decodeChunkData(encoding: number, data: Uint8Array): DecodedSamples {
  if (encoding === CHUNK_ENCODING_XOR) return decodeXorChunk(data);
  if (encoding === CHUNK_ENCODING_BLOCK) return decodeBlock(data);
  throw unknownEncoding(encoding);
}

/** Samples in a stored chunk's data. */
export function storedSampleCount(encoding: number, data: Uint8Array): number {
  if (encoding === CHUNK_ENCODING_XOR) return chunkNumSamples(data);
  if (encoding === CHUNK_ENCODING_BLOCK) return blockSampleCount(data);
  throw unknownEncoding(encoding);
}

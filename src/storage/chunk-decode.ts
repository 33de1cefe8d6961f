import { decodeXorChunk } from '../chunk/index.js';
import { decodeChunkData } from '../chunk/stored.js';
import { CHUNK_ENCODING_XOR } from './keys.js';
import type { SampleRun } from './merge.js';

/**
 * The samples of a stored chunk's data (the bytes after its header), by the encoding byte of its
 * header. The read path decodes XOR chunks in place itself (querier.ts); every other encoding
 * comes through here.
 */
export function decodeStoredChunk(encoding: number, data: Uint8Array): SampleRun {
  if (encoding === CHUNK_ENCODING_XOR) return decodeXorChunk(data);
  return decodeChunkData(encoding, data);
}

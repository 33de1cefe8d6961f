import { prefixEnd } from '../../kv/bytes.js';
import type { KvStore } from '../../kv/kv.js';
import { NS_CHUNK, chunkSeriesPrefix, decodeChunkKey, type ChunkKey } from '../keys.js';
import { firstKey } from './paging.js';

const CHUNKS_START = Uint8Array.of(NS_CHUNK);
const CHUNKS_END = Uint8Array.of(NS_CHUNK + 1);

/**
 * Every series that has at least one chunk, found by seeking from one series' chunks to the next
 * (one single-entry scan per series), with the key of its first chunk. Walking the chunks rather
 * than the S keys also reaches chunks whose S key is gone.
 */
export async function* seriesWithChunks(kv: KvStore): AsyncGenerator<ChunkKey> {
  let start: Uint8Array = CHUNKS_START;
  for (;;) {
    const key = await firstKey(kv, start, CHUNKS_END);
    if (key === null) return;
    const first = decodeChunkKey(key);
    yield first;
    start = prefixEnd(chunkSeriesPrefix(first.sid));
    if (start.length === 0) return;
  }
}

/** True when the series has any chunk left. */
export async function hasAnyChunk(kv: KvStore, sid: bigint): Promise<boolean> {
  const prefix = chunkSeriesPrefix(sid);
  return (await firstKey(kv, prefix, prefixEnd(prefix))) !== null;
}

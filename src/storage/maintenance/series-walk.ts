import { prefixEnd } from '../../kv/bytes.js';
import type { KvEntry, KvRange, KvStore } from '../../kv/kv.js';
import { NS_CHUNK, chunkSeriesPrefix, decodeChunkHeader, decodeChunkKey, type ChunkHeader, type ChunkKey } from '../keys.js';
import { firstKey, scanPages } from './paging.js';

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

/** A stored chunk with its key and header decoded. */
export interface StoredChunk {
  readonly entry: KvEntry;
  readonly key: ChunkKey;
  readonly header: ChunkHeader;
}

/**
 * The chunks of a key range of one series grouped by window, one window at a time, read in pages
 * of `pageSize` (a window's chunks are held together, however many pages they span).
 */
export async function* windowGroups(kv: KvStore, range: KvRange): AsyncGenerator<StoredChunk[]> {
  let group: StoredChunk[] = [];
  for await (const page of scanPages(kv, range)) {
    for (const entry of page) {
      const key = decodeChunkKey(entry.key);
      if (group.length > 0 && group[0]!.key.windowStartMs !== key.windowStartMs) {
        yield group;
        group = [];
      }
      group.push({ entry, key, header: decodeChunkHeader(entry.value) });
    }
  }
  if (group.length > 0) yield group;
}

/**
 * Sequence numbers for chunks that maintenance writes under writer 0. A key, once written, is
 * never written again with other samples (other nodes cache closed chunks by key), so each
 * rewrite of a window takes a fresh generation: the current time, or one above any generation
 * already in the window when the clock lags. The low 16 bits number the chunks of one rewrite.
 */
export function rewriteGeneration(nowMs: number, window: readonly StoredChunk[]): bigint {
  let gen = BigInt(Math.max(0, Math.floor(nowMs)));
  for (const c of window) {
    if (c.key.writer === MAINTENANCE_WRITER && c.key.seq >> 16n >= gen) gen = (c.key.seq >> 16n) + 1n;
  }
  return gen;
}

export function rewriteSeq(generation: bigint, index: number): bigint {
  return (generation << 16n) | BigInt(index);
}

/** The writer id reserved for chunks written by compaction and deletion (docs/format/kv-keys.md). */
export const MAINTENANCE_WRITER = 0n;

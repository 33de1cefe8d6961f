import { LRUCache } from 'lru-cache';

/** One stored chunk of a series as a KV read listed it. */
export interface ListedChunk {
  /** ChunkCache.keyOf its KV key. */
  readonly cacheKey: string;
  readonly windowStartMs: number;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly closed: boolean;
}

/** Every stored chunk of a series in windows [fromWindowMs, toWindowMs] at one KV write generation. */
export interface ChunkListing {
  readonly generation: string;
  readonly fromWindowMs: number;
  readonly toWindowMs: number;
  readonly chunks: readonly ListedChunk[];
}

/**
 * The chunk lists of recently read series, so that a read can skip the KV while the store's write
 * generation (KvStore.writeGeneration) is the one its list was read at: then no chunk key of any
 * series can have been added, rewritten or removed since. Bounded by series.
 */
export class ChunkListings {
  private readonly lru: LRUCache<bigint, ChunkListing>;

  constructor(readonly maxSeries: number) {
    this.lru = new LRUCache<bigint, ChunkListing>({ max: maxSeries });
  }

  /** The series' list when it was read at `generation` and covers the windows of [fromWindowMs, toWindowMs]. */
  get(sid: bigint, generation: string, fromWindowMs: number, toWindowMs: number): ChunkListing | undefined {
    const l = this.lru.get(sid);
    if (l === undefined) return undefined;
    if (l.generation !== generation || l.fromWindowMs > fromWindowMs || l.toWindowMs < toWindowMs) return undefined;
    return l;
  }

  set(sid: bigint, listing: ChunkListing): void {
    this.lru.set(sid, listing);
  }

  get size(): number {
    return this.lru.size;
  }
}

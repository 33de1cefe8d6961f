import { LRUCache } from 'lru-cache';
import type { InflatedBlock } from '../chunk/block.js';
import { ChunkListings } from './chunk-listing.js';

export interface DecodedChunk {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** A Uint32Array over exactly the memory of `values` (model/float-words.ts), to copy values bit for bit. */
  readonly words: Uint32Array;
}

/**
 * What the cache keeps of a closed chunk: an XOR chunk decoded, a compacted block inflated (short
 * reads then decode only the samples they keep, and the body takes a fraction of the decoded size),
 * with its newest samples decoded once a read of its last minutes asked for them.
 */
export type CachedChunk = DecodedChunk | InflatedBlock;

export function isInflatedBlock(c: CachedChunk): c is InflatedBlock {
  return 'body' in c;
}

/** Cache bytes per series whose chunk list is kept beside the chunks (a list of two takes about 420 bytes). */
const CACHE_BYTES_PER_LISTING = 4096;

/** Bookkeeping per entry beyond its arrays (key string, map slot, objects). */
const ENTRY_OVERHEAD_BYTES = 160;

/** The memory an entry holds, as the cache counts it. */
export function cachedBytes(c: CachedChunk): number {
  const arrays = isInflatedBlock(c)
    ? c.body.buffer.byteLength + (c.tail === null ? 0 : c.tail.timestamps.buffer.byteLength)
    : c.timestamps.buffer.byteLength + c.values.buffer.byteLength;
  return arrays + ENTRY_OVERHEAD_BYTES;
}

/**
 * Closed chunks by KV key, limited by bytes. Only closed chunks go in: their key is never
 * rewritten with other samples (deletion removes the key, and a reader then misses it in the scan).
 */
export class ChunkCache {
  private readonly lru: LRUCache<string, CachedChunk> | null;
  /** Which chunks each recently read series has in the KV, to skip reads that would list the same. */
  readonly listings: ChunkListings | null;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {
    this.lru = maxBytes > 0 ? new LRUCache<string, CachedChunk>({ maxSize: maxBytes, sizeCalculation: cachedBytes }) : null;
    const listings = Math.floor(maxBytes / CACHE_BYTES_PER_LISTING);
    this.listings = listings > 0 ? new ChunkListings(listings) : null;
  }

  static keyOf(chunkKey: Uint8Array): string {
    // Keys read from the embedded KV are Buffers already; wrapping them again costs as much as the string.
    if (Buffer.isBuffer(chunkKey)) return chunkKey.toString('latin1');
    return Buffer.from(chunkKey.buffer, chunkKey.byteOffset, chunkKey.byteLength).toString('latin1');
  }

  get(key: string): CachedChunk | undefined {
    const c = this.lru?.get(key);
    if (c === undefined) this.misses++;
    else this.hits++;
    return c;
  }

  set(key: string, chunk: CachedChunk): void {
    this.lru?.set(key, chunk);
  }

  get sizeBytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }
}

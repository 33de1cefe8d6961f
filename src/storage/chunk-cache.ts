import { LRUCache } from 'lru-cache';

export interface DecodedChunk {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** A Uint32Array over exactly the memory of `values` (float-words.ts), to copy values bit for bit. */
  readonly words: Uint32Array;
}

/** Bookkeeping per entry beyond the two arrays (key string, map slot, objects). */
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * Decoded closed chunks by KV key, limited by bytes. Only closed chunks go in: their key is never
 * rewritten with other samples (deletion removes the key, and a reader then misses it in the scan).
 */
export class ChunkCache {
  private readonly lru: LRUCache<string, DecodedChunk> | null;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {
    this.lru =
      maxBytes > 0
        ? new LRUCache<string, DecodedChunk>({
            maxSize: maxBytes,
            sizeCalculation: (c) => c.timestamps.byteLength + c.values.byteLength + ENTRY_OVERHEAD_BYTES,
          })
        : null;
  }

  static keyOf(chunkKey: Uint8Array): string {
    // Keys read from the embedded KV are Buffers already; wrapping them again costs as much as the string.
    if (Buffer.isBuffer(chunkKey)) return chunkKey.toString('latin1');
    return Buffer.from(chunkKey.buffer, chunkKey.byteOffset, chunkKey.byteLength).toString('latin1');
  }

  get(key: string): DecodedChunk | undefined {
    const c = this.lru?.get(key);
    if (c === undefined) this.misses++;
    else this.hits++;
    return c;
  }

  set(key: string, chunk: DecodedChunk): void {
    this.lru?.set(key, chunk);
  }

  get sizeBytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }
}

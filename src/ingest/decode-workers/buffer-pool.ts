import type { BufferSource } from '../samples-buffer.js';

/** The smallest buffer a pool hands out; smaller requests share this size class. */
const MIN_CLASS_BYTES = 4096;

/** Bytes a decode worker keeps in its pool when they are not in use (the rest is left to the collector). */
export const MAX_POOLED_BYTES = 8 * 1024 * 1024;

/**
 * A decode worker's spare ArrayBuffers, by power-of-two size, so that buffers sent to the main
 * thread and sent back serve the next requests instead of being freed and allocated again. At
 * most `maxPooledBytes` wait here; a buffer that would exceed that is dropped.
 */
export class BufferPool implements BufferSource {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private pooled = 0;
  private allocated = 0;

  constructor(readonly maxPooledBytes = MAX_POOLED_BYTES) {}

  /** Bytes waiting in the pool now. */
  get pooledBytes(): number {
    return this.pooled;
  }

  /** Bytes this pool ever allocated (stops growing once recycled buffers cover the load). */
  get allocatedBytes(): number {
    return this.allocated;
  }

  take(bytes: number): ArrayBuffer {
    const size = sizeClass(bytes);
    const spare = this.free.get(size)?.pop();
    if (spare !== undefined) {
      this.pooled -= size;
      return spare;
    }
    this.allocated += size;
    return new ArrayBuffer(size);
  }

  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    // Only buffers this pool could have made: a detached one (length 0) or a foreign size is not kept.
    if (size < MIN_CLASS_BYTES || sizeClass(size) !== size) return;
    if (this.pooled + size > this.maxPooledBytes) return;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(buffer);
    this.pooled += size;
  }
}

function sizeClass(bytes: number): number {
  let size = MIN_CLASS_BYTES;
  while (size < bytes) size *= 2;
  return size;
}

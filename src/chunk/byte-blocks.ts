/** Where a BitWriter gets its buffers, and gives them back when it grows or is released. */
export interface ByteBlocks {
  /** A zeroed buffer of at least `minBytes`. */
  take(minBytes: number): Uint8Array;
  /** Returns a buffer from `take`; the caller must not use it afterwards. */
  give(block: Uint8Array): void;
}

/** A new buffer per take, left to the garbage collector. */
export const FRESH_BLOCKS: ByteBlocks = {
  take: (minBytes) => new Uint8Array(minBytes),
  give: () => undefined,
};

const SLAB_BYTES = 64 * 1024;
const MIN_CLASS = 6; // 64 bytes
const MAX_CLASS = 12; // 4 KiB

/**
 * Buffers of power-of-two sizes (64 bytes to 4 KiB) cut from shared 64 KiB slabs and reused as soon
 * as they are given back. For the head's chunks: each would otherwise be an ArrayBuffer with a
 * store of its own, freed only when a full collection finds it dead, and a replay at full speed
 * retires chunks far faster than full collections come. Larger requests get a buffer of their own.
 */
export class PooledByteBlocks implements ByteBlocks {
  /** Free blocks by size class (log2 of the size). */
  private readonly free: Uint8Array[][] = [];
  private slabs = 0;

  take(minBytes: number): Uint8Array {
    const cls = sizeClassOf(minBytes);
    if (cls > MAX_CLASS) return new Uint8Array(minBytes);
    const list = (this.free[cls] ??= []);
    const block = list.pop();
    if (block !== undefined) {
      block.fill(0);
      return block;
    }
    const size = 1 << cls;
    const slab = new ArrayBuffer(SLAB_BYTES);
    this.slabs++;
    for (let at = SLAB_BYTES - size; at > 0; at -= size) list.push(new Uint8Array(slab, at, size));
    return new Uint8Array(slab, 0, size);
  }

  give(block: Uint8Array): void {
    if (block.buffer.byteLength !== SLAB_BYTES || block.byteLength > 1 << MAX_CLASS) return; // not one of ours
    this.free[sizeClassOf(block.byteLength)]!.push(block);
  }

  /** Bytes of slabs allocated (the pool never returns them). */
  get sizeBytes(): number {
    return this.slabs * SLAB_BYTES;
  }
}

function sizeClassOf(bytes: number): number {
  return bytes <= 1 << MIN_CLASS ? MIN_CLASS : 32 - Math.clz32(bytes - 1);
}

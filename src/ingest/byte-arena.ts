const MIN_GROWN_BYTES = 1024;

/**
 * Byte strings kept back to back in one growing buffer, each named by its offset. Tables that
 * remember many short byte strings (the label bytes of every known series) hold offsets instead of
 * a typed array each, whose wrapper objects and separately allocated store cost several times the
 * bytes themselves.
 */
export class ByteArena {
  private buf: Uint8Array;
  private used = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Copies bytes[start, end) in and returns the offset it is stored at. */
  add(bytes: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (this.used + n > this.buf.length) this.grow(this.used + n);
    const at = this.used;
    this.buf.set(bytes.subarray(start, end), at);
    this.used = at + n;
    return at;
  }

  /** Whether the `length` bytes stored at `at` equal bytes[start, end). */
  equals(at: number, length: number, bytes: Uint8Array, start: number, end: number): boolean {
    if (length !== end - start) return false;
    const buf = this.buf;
    for (let i = 0; i < length; i++) if (buf[at + i] !== bytes[start + i]) return false;
    return true;
  }

  /** Bytes stored. */
  get sizeBytes(): number {
    return this.used;
  }

  private grow(needed: number): void {
    let capacity = Math.max(this.buf.length * 2, MIN_GROWN_BYTES);
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
  }
}

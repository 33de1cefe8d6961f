/**
 * Bit streams, most significant bit first, as Prometheus's tsdb/chunkenc/bstream.go lays them out.
 *
 * One quirk matters for byte compatibility: Prometheus's writer keeps an empty byte at the end of
 * the stream after any write whose width is a whole number of bytes (a varint byte, a 64-bit value,
 * a 16-bit field...) when that write ends on a byte boundary. A later write fills that byte, so
 * the bits are the same; only the length of a finished stream differs. BitWriter reproduces it
 * (see byteLength), and the chunk decoder checks it.
 */
import { FRESH_BLOCKS, type ByteBlocks } from './byte-blocks.js';
import { MetricstorError } from '../errors.js';
import { ChunkCorruptError } from './errors.js';

const MIN_CAPACITY_BYTES = 16;
const DEFAULT_CAPACITY_BYTES = 128;
/** A released writer's buffer: its next stored word throws in grow(). */
const RELEASED = new Uint8Array(0);

/**
 * Bits are gathered in a 32-bit accumulator and stored four bytes at a time, so a write is a few
 * shifts and the capacity is checked once per 32 bits. The buffer always has room for the
 * accumulator's four bytes at `bytePos`, which is where bytes() and copyTo() put them.
 */
export class BitWriter {
  private buf: Uint8Array;
  /** Bytes of the buffer that are final; the accumulator's bits follow them. */
  private bytePos = 0;
  /** Pending bits, most significant first; its low 32 - accBits bits are zero. */
  private acc = 0;
  /** 0..31 */
  private accBits = 0;
  /** True when the last write was a whole number of bytes wide (see the module comment). */
  private lastWriteByteSized = false;

  constructor(
    capacityBytes = DEFAULT_CAPACITY_BYTES,
    private readonly blocks: ByteBlocks = FRESH_BLOCKS,
  ) {
    this.buf = blocks.take(Math.max(capacityBytes, MIN_CAPACITY_BYTES));
  }

  /**
   * A writer that continues after the first bitLen bits of bytes. Bits after bitLen are dropped.
   * lastWriteByteSized is what the stream's writer last did (it decides the finished length).
   * capacityBytes sizes the first buffer (at least what is kept, plus room to write).
   */
  static resume(bytes: Uint8Array, bitLen: number, lastWriteByteSized: boolean, capacityBytes = 0, blocks: ByteBlocks = FRESH_BLOCKS): BitWriter {
    const wholeBytes = bitLen >>> 3;
    const w = new BitWriter(Math.max(capacityBytes, wholeBytes * 2, wholeBytes + MIN_CAPACITY_BYTES), blocks);
    w.buf.set(bytes.subarray(0, wholeBytes));
    w.bytePos = wholeBytes;
    const partial = bitLen & 7;
    if (partial !== 0) {
      w.acc = ((bytes[wholeBytes]! & (0xff << (8 - partial))) << 24) | 0;
      w.accBits = partial;
    }
    w.lastWriteByteSized = lastWriteByteSized;
    return w;
  }

  /** Number of bits written. */
  get bitLength(): number {
    return this.bytePos * 8 + this.accBits;
  }

  /** Length in bytes of the finished stream, Prometheus's trailing empty byte included. */
  get byteLength(): number {
    const bitLen = this.bytePos * 8 + this.accBits;
    const bytes = (bitLen + 7) >>> 3;
    return this.lastWriteByteSized && (bitLen & 7) === 0 && bitLen > 0 ? bytes + 1 : bytes;
  }

  /** A copy of the finished stream. */
  bytes(): Uint8Array {
    this.storePending();
    return this.buf.slice(0, this.byteLength);
  }

  /** Copies the finished stream (what bytes() returns) into `out` at `offset`; returns the end offset. */
  copyTo(out: Uint8Array, offset: number): number {
    this.storePending();
    const n = this.byteLength;
    out.set(this.buf.subarray(0, n), offset);
    return offset + n;
  }

  /** Overwrites a 16-bit big-endian field at a byte offset already written. */
  setUint16At(byteOffset: number, value: number): void {
    this.setByteAt(byteOffset, (value >>> 8) & 0xff);
    this.setByteAt(byteOffset + 1, value & 0xff);
  }

  writeBit(bit: number): void {
    this.lastWriteByteSized = false;
    if (this.accBits < 31) {
      this.acc |= (bit !== 0 ? 1 : 0) << (31 - this.accBits);
      this.accBits++;
    } else {
      this.put(bit !== 0 ? 1 : 0, 1);
    }
  }

  writeByte(byte: number): void {
    this.writeBits(byte & 0xff, 8);
  }

  /** Writes the n (1..32) low bits of value. */
  writeBits(value: number, n: number): void {
    this.put(n === 32 ? value : value & ((1 << n) - 1), n);
    this.lastWriteByteSized = (n & 7) === 0;
  }

  /**
   * Writes the n (1..32) low bits of value as one write standing for two: a prefix and then a field
   * lastWidth bits wide, which is the write that decides the trailing byte (see the module comment).
   */
  writeBitsPrefixed(value: number, n: number, lastWidth: number): void {
    this.put(n === 32 ? value : value & ((1 << n) - 1), n);
    this.lastWriteByteSized = (lastWidth & 7) === 0;
  }

  /** Writes the n (1..64) low bits of the 64-bit number hi:lo as one write. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.put(n === 64 ? hi : hi & ((1 << (n - 32)) - 1), n - 32);
      this.put(lo, 32);
    } else {
      this.put(n === 32 ? lo : lo & ((1 << n) - 1), n);
    }
    this.lastWriteByteSized = (n & 7) === 0;
  }

  /** Appends the n (1..32) bits of v, which has no bits above them. */
  private put(v: number, n: number): void {
    const free = 32 - this.accBits;
    if (n < free) {
      this.acc |= v << (free - n);
      this.accBits += n;
    } else if (n === free) {
      this.flush(this.acc | v);
      this.acc = 0;
      this.accBits = 0;
    } else {
      const rest = n - free; // 1..31 bits that go to the next word
      this.flush(this.acc | (v >>> rest));
      this.acc = v << (32 - rest);
      this.accBits = rest;
    }
  }

  /** Stores a full word at bytePos and moves past it. */
  private flush(word: number): void {
    const buf = this.buf;
    const i = this.bytePos;
    buf[i] = word >>> 24;
    buf[i + 1] = word >>> 16;
    buf[i + 2] = word >>> 8;
    buf[i + 3] = word;
    this.bytePos = i + 4;
    if (i + 8 > buf.length) this.grow();
  }

  /** Stores the accumulator's bytes after the final ones, without moving (its unused bits are 0). */
  private storePending(): void {
    const buf = this.buf;
    const i = this.bytePos;
    const word = this.acc;
    buf[i] = word >>> 24;
    buf[i + 1] = word >>> 16;
    buf[i + 2] = word >>> 8;
    buf[i + 3] = word;
  }

  private setByteAt(byteOffset: number, byte: number): void {
    const k = byteOffset - this.bytePos;
    if (k < 0) {
      this.buf[byteOffset] = byte;
    } else {
      const shift = 24 - 8 * k;
      this.acc = (this.acc & ~(0xff << shift)) | (byte << shift);
    }
  }

  private grow(): void {
    if (this.buf === RELEASED) throw new MetricstorError('internal', 'write to a released bit stream');
    const next = this.blocks.take(this.buf.length * 2);
    next.set(this.buf.subarray(0, this.bytePos));
    this.blocks.give(this.buf);
    this.buf = next;
  }

  /** Gives the buffer back to where it came from; the writer is unusable afterwards. */
  release(): void {
    this.blocks.give(this.buf);
    this.buf = RELEASED;
    this.bytePos = 0;
    this.accBits = 0;
  }
}

/** Reads bits from [startBit, endBit) of a byte array; reading past endBit throws ChunkCorruptError. */
export class BitReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    startBit = 0,
    readonly endBit: number = buf.length * 8,
  ) {
    this.pos = startBit;
  }

  get remainingBits(): number {
    return this.endBit - this.pos;
  }

  readBit(): number {
    const p = this.pos;
    if (p >= this.endBit) this.pastEnd(1);
    this.pos = p + 1;
    return (this.buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  /** Reads n (1..32) bits as an unsigned number. */
  readBits(n: number): number {
    const p = this.pos;
    if (p + n > this.endBit) this.pastEnd(n);
    this.pos = p + n;
    const buf = this.buf;
    const i = p >>> 3;
    const offset = p & 7;
    // Bytes past the array read as undefined, which `|` turns into 0; they are never used.
    const word = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
    const end = offset + n;
    const top = ((word << offset) >>> 0) >>> (32 - n);
    if (end <= 32) return top;
    return (top | (buf[i + 4]! >>> (40 - end))) >>> 0;
  }

  private pastEnd(n: number): never {
    throw new ChunkCorruptError(`needs ${n} more bit(s) at bit ${this.pos}, but the data ends at bit ${this.endBit}`);
  }
}

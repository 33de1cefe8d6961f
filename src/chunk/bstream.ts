/**
 * Bit streams, most significant bit first, as Prometheus's tsdb/chunkenc/bstream.go lays them out.
 *
 * One quirk matters for byte compatibility: Prometheus's writer keeps an empty byte at the end of
 * the stream after any write whose width is a whole number of bytes (a varint byte, a 64-bit value,
 * a 16-bit field...) when that write ends on a byte boundary. A later write fills that byte, so
 * the bits are the same; only the length of a finished stream differs. BitWriter reproduces it
 * (see byteLength), and the chunk decoder checks it.
 */
import { ChunkCorruptError } from './errors.js';

const MIN_CAPACITY_BYTES = 128;
/** Room kept free past the write position, enough for any single write (64 bits + slack). */
const WRITE_SLACK_BYTES = 16;

export class BitWriter {
  private buf: Uint8Array;
  private bitLen = 0;
  /** True when the last write was a whole number of bytes wide (see the module comment). */
  private lastWriteByteSized = false;

  constructor(capacityBytes = MIN_CAPACITY_BYTES) {
    this.buf = new Uint8Array(Math.max(capacityBytes, MIN_CAPACITY_BYTES));
  }

  /**
   * A writer that continues after the first bitLen bits of bytes. Bits after bitLen are dropped.
   * lastWriteByteSized is what the stream's writer last did (it decides the finished length).
   */
  static resume(bytes: Uint8Array, bitLen: number, lastWriteByteSized: boolean): BitWriter {
    const usedBytes = (bitLen + 7) >>> 3;
    const w = new BitWriter(Math.max(usedBytes * 2, usedBytes + WRITE_SLACK_BYTES));
    w.buf.set(bytes.subarray(0, usedBytes));
    const partial = bitLen & 7;
    if (partial !== 0) w.buf[usedBytes - 1]! &= 0xff << (8 - partial);
    w.bitLen = bitLen;
    w.lastWriteByteSized = lastWriteByteSized;
    return w;
  }

  /** Number of bits written. */
  get bitLength(): number {
    return this.bitLen;
  }

  /** Length in bytes of the finished stream, Prometheus's trailing empty byte included. */
  get byteLength(): number {
    const bytes = (this.bitLen + 7) >>> 3;
    return this.lastWriteByteSized && (this.bitLen & 7) === 0 && this.bitLen > 0 ? bytes + 1 : bytes;
  }

  /** A copy of the finished stream. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.byteLength);
  }

  /** Copies the finished stream (what bytes() returns) into `out` at `offset`; returns the end offset. */
  copyTo(out: Uint8Array, offset: number): number {
    const n = this.byteLength;
    out.set(this.buf.subarray(0, n), offset);
    return offset + n;
  }

  /** Overwrites a 16-bit big-endian field at a byte offset already written. */
  setUint16At(byteOffset: number, value: number): void {
    this.buf[byteOffset] = value >>> 8;
    this.buf[byteOffset + 1] = value;
  }

  writeBit(bit: number): void {
    if ((this.bitLen >>> 3) + WRITE_SLACK_BYTES > this.buf.length) this.grow();
    if (bit !== 0) this.buf[this.bitLen >>> 3]! |= 0x80 >>> (this.bitLen & 7);
    this.bitLen++;
    this.lastWriteByteSized = false;
  }

  writeByte(byte: number): void {
    this.writeBits(byte & 0xff, 8);
  }

  /** Writes the n (1..32) low bits of value. */
  writeBits(value: number, n: number): void {
    if ((this.bitLen >>> 3) + WRITE_SLACK_BYTES > this.buf.length) this.grow();
    this.put(value, n);
    this.lastWriteByteSized = (n & 7) === 0;
  }

  /** Writes the n (1..64) low bits of the 64-bit number hi:lo as one write. */
  writeBits64(hi: number, lo: number, n: number): void {
    if ((this.bitLen >>> 3) + WRITE_SLACK_BYTES > this.buf.length) this.grow();
    if (n > 32) {
      this.put(hi, n - 32);
      this.put(lo, 32);
    } else {
      this.put(lo, n);
    }
    this.lastWriteByteSized = (n & 7) === 0;
  }

  /** Places the n (1..32) low bits of value at the write position; capacity is already checked. */
  private put(value: number, n: number): void {
    const buf = this.buf;
    const i = this.bitLen >>> 3;
    const offset = this.bitLen & 7;
    const v = n === 32 ? value >>> 0 : (value & ((1 << n) - 1)) >>> 0;
    const end = offset + n;
    if (end <= 32) {
      // Spread v over the 4 bytes from i, starting `offset` bits in (shift 0..31 keeps it exact).
      const word = (v << (32 - end)) >>> 0;
      buf[i] |= word >>> 24;
      if (end > 8) buf[i + 1] |= word >>> 16;
      if (end > 16) buf[i + 2] |= word >>> 8;
      if (end > 24) buf[i + 3] |= word;
    } else {
      const rest = end - 32; // 1..7 bits that spill into byte i + 4
      const word = v >>> rest;
      buf[i] |= word >>> 24;
      buf[i + 1] |= word >>> 16;
      buf[i + 2] |= word >>> 8;
      buf[i + 3] |= word;
      buf[i + 4] = (v << (8 - rest)) & 0xff;
    }
    this.bitLen += n;
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
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

/**
 * Writing XOR chunks bit for bit as Prometheus's xorAppender does (layout in
 * docs/format/chunks.md), so stored chunks can be served as remote-read XOR chunks unchanged.
 */
import { MetricstorError, badData } from '../errors.js';
import { BitWriter } from './bstream.js';
import { FRESH_BLOCKS, type ByteBlocks } from './byte-blocks.js';
import { HI_WORD, LO_WORD, bufferWordsOf, wordsOf } from '../model/float-words.js';
import { CHUNK_HEADER_BYTES, XorIterator } from './xor-iterator.js';
import { writeUvarint, writeUvarintBig, writeVarint } from './varint.js';

/** The header's 16-bit count limits a chunk to this many samples. */
export const MAX_SAMPLES_PER_CHUNK = 0xffff;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO_POW_32 = 4294967296;
const TWO_POW_52 = 2 ** 52;
/** Marks "no value window written yet": the next non-zero XOR writes a fresh one. */
const NO_WINDOW = 0xff;
/** A 120-sample chunk of node_exporter-like data takes about 150-250 bytes; most never grow. */
const FIRST_BUFFER_BYTES = 256;
const EMPTY_HEADER = new Uint8Array(CHUNK_HEADER_BYTES);

const scratchValue = new Float64Array(1);
const scratchWords = wordsOf(scratchValue);

function trailingZeros32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class XorAppender {
  private w: BitWriter;
  private count = 0;
  private t0 = 0;
  private t = 0;
  private tDelta = 0;
  /** The exact delta when it exceeds 2^53 - 1 (tDelta then holds an approximation). */
  private tDeltaBig: bigint | null = null;
  private vHi = 0;
  private vLo = 0;
  private leading = NO_WINDOW;
  private trailing = 0;

  /** An empty chunk: two zero header bytes. Its buffers come from `blocks`. */
  constructor(blocks: ByteBlocks = FRESH_BLOCKS) {
    this.w = BitWriter.resume(EMPTY_HEADER, CHUNK_HEADER_BYTES * 8, false, FIRST_BUFFER_BYTES, blocks);
  }

  /** Gives the buffer back to its blocks; the appender is unusable afterwards. */
  release(): void {
    this.w.release();
  }

  /**
   * An appender that continues an existing chunk (it replays every sample). Appending afterwards
   * gives the same bytes as appending all samples to one new appender. Throws ChunkCorruptError.
   */
  static fromBytes(bytes: Uint8Array): XorAppender {
    const s = new XorIterator(bytes).resumeState();
    const a = new XorAppender();
    a.w = BitWriter.resume(bytes, s.bitLength, s.lastWriteByteSized);
    a.count = s.numSamples;
    if (s.numSamples === 0) return a;
    a.t0 = s.firstT;
    a.t = s.t;
    a.tDelta = s.tDelta;
    a.tDeltaBig = s.tDeltaBig;
    a.vHi = s.vHi;
    a.vLo = s.vLo;
    if (s.hasWindow) {
      a.leading = s.leading;
      a.trailing = s.trailing;
    }
    return a;
  }

  get numSamples(): number {
    return this.count;
  }

  /** Timestamp of the first sample; throws on an empty chunk. */
  get firstT(): number {
    if (this.count === 0) throw new MetricstorError('internal', 'firstT of an empty chunk');
    return this.t0;
  }

  /** Timestamp of the last sample; throws on an empty chunk. */
  get lastT(): number {
    if (this.count === 0) throw new MetricstorError('internal', 'lastT of an empty chunk');
    return this.t;
  }

  /** The encoded chunk, a copy the caller may keep (later appends do not change it). */
  bytes(): Uint8Array {
    this.w.setUint16At(0, this.count);
    return this.w.bytes();
  }

  /** Copies the encoded chunk into `out` at `offset` (sizeBytes bytes) without an intermediate copy; returns the end offset. */
  copyTo(out: Uint8Array, offset: number): number {
    this.w.setUint16At(0, this.count);
    return this.w.copyTo(out, offset);
  }

  /** Encoded size in bytes, without copying. */
  get sizeBytes(): number {
    return this.w.byteLength;
  }

  /**
   * Appends one sample. t must be a safe integer (ms) greater than the last one. A NaN with a
   * payload in a plain number may already have lost it; use appendFrom for exact bits.
   */
  append(t: number, v: number): void {
    scratchValue[0] = v;
    this.appendBits(t, scratchWords[HI_WORD]!, scratchWords[LO_WORD]!);
  }

  /** Appends (t, values[index]) with the value's exact bits. */
  appendFrom(values: Float64Array, index: number, t: number): void {
    if (!(index >= 0 && index < values.length && Number.isInteger(index))) {
      throw new MetricstorError('internal', `appendFrom index ${index} outside 0..${values.length - 1}`);
    }
    const words = bufferWordsOf(values);
    const at = (values.byteOffset >>> 2) + 2 * index;
    this.appendBits(t, words[at + HI_WORD]!, words[at + LO_WORD]!);
  }

  /**
   * Appends (t, value) with the value given as its two 32-bit words (hi: sign, exponent and top
   * of the mantissa), for callers that already hold them.
   */
  appendWords(t: number, hi: number, lo: number): void {
    this.appendBits(t, hi >>> 0, lo >>> 0);
  }

  private appendBits(t: number, hi: number, lo: number): void {
    const n = this.count;
    if (!Number.isSafeInteger(t)) {
      throw badData(`sample timestamp ${t} is not an integer number of milliseconds within ±(2^53-1)`);
    }
    if (n > 0 && !(t > this.t)) {
      throw badData(`sample timestamp ${t} is not after the chunk's last timestamp ${this.t}`);
    }
    if (n >= MAX_SAMPLES_PER_CHUNK) {
      throw new MetricstorError('internal', `a chunk holds at most ${MAX_SAMPLES_PER_CHUNK} samples`);
    }
    if (t === 0) t = 0; // -0 becomes 0
    const w = this.w;
    if (n === 0) {
      writeVarint(w, t);
      w.writeBits64(hi, lo, 64);
      this.t0 = t;
    } else {
      const delta = t - this.t; // exact whenever it is ≤ 2^53 - 1
      if (n === 1) {
        if (delta <= MAX_SAFE) {
          writeUvarint(w, delta);
          this.tDelta = delta;
        } else {
          const exact = BigInt(t) - BigInt(this.t);
          writeUvarintBig(w, exact);
          this.setDelta(exact);
        }
      } else if (delta <= MAX_SAFE && this.tDeltaBig === null) {
        this.writeDod(delta - this.tDelta);
        this.tDelta = delta;
      } else {
        this.appendDeltaExact(t);
      }
      this.writeValue(hi, lo);
    }
    this.t = t;
    this.vHi = hi;
    this.vLo = lo;
    this.count = n + 1;
  }

  /** The rare path for deltas beyond 2^53 - 1. */
  private appendDeltaExact(t: number): void {
    const delta = BigInt(t) - BigInt(this.t);
    const dod = delta - (this.tDeltaBig ?? BigInt(this.tDelta));
    if (dod >= -TWO_POW_52 && dod <= TWO_POW_52) {
      this.writeDod(Number(dod));
    } else {
      const bits = BigInt.asUintN(64, dod);
      this.w.writeBits(0b1111, 4);
      this.w.writeBits64(Number(bits >> 32n), Number(bits & 0xffffffffn), 64);
    }
    this.setDelta(delta);
  }

  private setDelta(delta: bigint): void {
    this.tDelta = Number(delta);
    this.tDeltaBig = delta > BigInt(MAX_SAFE) ? delta : null;
  }

  /** Delta-of-delta buckets; the ranges are Prometheus's bitRange: -(2^(n-1)-1) ≤ dod ≤ 2^(n-1). */
  private writeDod(dod: number): void {
    const w = this.w;
    if (dod === 0) {
      w.writeBit(0);
    } else if (dod >= -8191 && dod <= 8192) {
      w.writeBitsPrefixed((0b10 << 14) | (dod & 0x3fff), 16, 14);
    } else if (dod >= -65535 && dod <= 65536) {
      w.writeBitsPrefixed((0b110 << 17) | (dod & 0x1ffff), 20, 17);
    } else if (dod >= -524287 && dod <= 524288) {
      w.writeBitsPrefixed((0b1110 << 20) | (dod & 0xfffff), 24, 20);
    } else {
      // |dod| ≤ 2^53: hi fits in 32 bits and lo is exact.
      const hi = Math.floor(dod / TWO_POW_32);
      const lo = dod - hi * TWO_POW_32;
      w.writeBits(0b1111, 4);
      w.writeBits64(hi >>> 0, lo >>> 0, 64);
    }
  }

  private writeValue(hi: number, lo: number): void {
    const w = this.w;
    const xh = (hi ^ this.vHi) >>> 0;
    const xl = (lo ^ this.vLo) >>> 0;
    if (xh === 0 && xl === 0) {
      w.writeBit(0);
      return;
    }
    let leading = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const trailing = xl !== 0 ? trailingZeros32(xl) : 32 + trailingZeros32(xh);
    // The 5-bit field holds at most 31.
    if (leading > 31) leading = 31;
    let windowTrailing: number;
    let sigBits: number;
    const reuse = this.leading !== NO_WINDOW && leading >= this.leading && trailing >= this.trailing;
    if (reuse) {
      windowTrailing = this.trailing;
      sigBits = 64 - this.leading - windowTrailing;
    } else {
      this.leading = leading;
      this.trailing = trailing;
      windowTrailing = trailing;
      sigBits = 64 - leading - trailing;
    }
    let sh: number;
    let sl: number;
    if (windowTrailing === 0) {
      sh = xh;
      sl = xl;
    } else if (windowTrailing < 32) {
      sh = xh >>> windowTrailing;
      sl = ((xl >>> windowTrailing) | (xh << (32 - windowTrailing))) >>> 0;
    } else {
      sh = 0;
      sl = xh >>> (windowTrailing - 32);
    }
    if (reuse) {
      if (sigBits <= 30) {
        w.writeBitsPrefixed((0b10 << sigBits) | sl, sigBits + 2, sigBits);
        return;
      }
      w.writeBits(0b10, 2);
    } else {
      // 0b11, 5 bits of leading zeros, 6 of significant bits (64 is written as 0).
      w.writeBits((0b11 << 11) | (leading << 6) | (sigBits & 63), 13);
    }
    w.writeBits64(sh, sl, sigBits);
  }
}

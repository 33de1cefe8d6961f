/**
 * Reading XOR chunks (layout in docs/format/chunks.md). The reader is strict: a chunk must hold
 * exactly the bits its sample count needs, in the length Prometheus's writer gives it, with zero
 * padding, increasing timestamps within the safe-integer range, and varints of at most 64 bits.
 * Anything else throws ChunkCorruptError.
 */
import { BitReader } from './bstream.js';
import { ChunkCorruptError } from './errors.js';
import { HI_WORD, LO_WORD, wordsOf } from '../model/float-words.js';
import { readUvarint, readVarint } from './varint.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
const TWO_POW_32 = 4294967296;
export const CHUNK_HEADER_BYTES = 2;

/** Everything an appender needs to continue a chunk where a full read of it ended. */
export interface XorResumeState {
  readonly numSamples: number;
  readonly bitLength: number;
  readonly lastWriteByteSized: boolean;
  readonly firstT: number;
  readonly t: number;
  readonly tDelta: number;
  readonly tDeltaBig: bigint | null;
  readonly vHi: number;
  readonly vLo: number;
  /** Leading/trailing zeros of the current value window; hasWindow false if none was written. */
  readonly leading: number;
  readonly trailing: number;
  readonly hasWindow: boolean;
}

/**
 * The fewest bits n samples can take: header, a 1-byte t0 and 64-bit v0, a 1-byte delta and a
 * '0' value bit, then 2 bits ('0' delta-of-delta, '0' value) for each further sample.
 */
export function minimumBits(n: number): number {
  if (n === 0) return CHUNK_HEADER_BYTES * 8;
  return CHUNK_HEADER_BYTES * 8 + 72 + (n > 1 ? 9 + (n - 2) * 2 : 0);
}

/** The sample count from a chunk's header. */
export function chunkNumSamples(bytes: Uint8Array): number {
  if (bytes.length < CHUNK_HEADER_BYTES) {
    throw new ChunkCorruptError(`${bytes.length} byte(s), shorter than the 2-byte header`);
  }
  return (bytes[0]! << 8) | bytes[1]!;
}

// One cached integer view for valueInto, so repeated calls on one array allocate nothing.
let viewedValues: Float64Array | null = null;
let viewedWords: Uint32Array = new Uint32Array(0);
function wordsFor(out: Float64Array): Uint32Array {
  if (out !== viewedValues) {
    viewedValues = out;
    viewedWords = wordsOf(out);
  }
  return viewedWords;
}

const scratchValue = new Float64Array(1);
const scratchWords = wordsOf(scratchValue);

/**
 * Walks the samples of a chunk in order. `t` is NaN before the first next(); after next() or
 * seek() returns false it keeps the last sample. next() throws ChunkCorruptError as soon as the
 * bits are inconsistent (and again on every later call), and checks the chunk's length and
 * padding before it returns the last sample, so a damaged chunk never ends quietly.
 */
export class XorIterator {
  private readonly bytes: Uint8Array;
  private readonly r: BitReader;
  private readonly total: number;
  private numRead = 0;
  private curT = NaN;
  private firstT = NaN;
  private tDelta = 0;
  /** The exact delta when it exceeds 2^53 - 1 (tDelta then holds an approximation). */
  private tDeltaBig: bigint | null = null;
  private vHi = 0;
  private vLo = 0;
  private leading = 0;
  private trailing = 0;
  private hasWindow = false;
  private lastWriteByteSized = false;
  /** Set once the chunk proved corrupt; every later next() throws it again. */
  private failure: ChunkCorruptError | null = null;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.total = chunkNumSamples(bytes);
    this.r = new BitReader(bytes, CHUNK_HEADER_BYTES * 8);
    if (this.total === 0 && bytes.length !== CHUNK_HEADER_BYTES) {
      throw new ChunkCorruptError(`header says 0 samples but the chunk has ${bytes.length} bytes`);
    }
    const minBits = minimumBits(this.total);
    if (minBits > bytes.length * 8) {
      throw new ChunkCorruptError(`header says ${this.total} samples, which need at least ${minBits} bits, but the chunk has ${bytes.length} bytes`);
    }
  }

  /** Timestamp of the current sample (integer ms). */
  get t(): number {
    return this.curT;
  }

  /**
   * Value of the current sample as a number. A NaN payload may not survive a JS number in every
   * engine path; use valueInto when the exact bits matter (the staleness marker).
   */
  get v(): number {
    scratchWords[HI_WORD] = this.vHi;
    scratchWords[LO_WORD] = this.vLo;
    return scratchValue[0]!;
  }

  /** Writes the current value's exact bits into out[i]. */
  valueInto(out: Float64Array, i: number): void {
    const words = wordsFor(out);
    words[2 * i + HI_WORD] = this.vHi;
    words[2 * i + LO_WORD] = this.vLo;
  }

  /** valueInto for a caller that already holds the integer view of its Float64Array. */
  wordsInto(words: Uint32Array, i: number): void {
    words[2 * i + HI_WORD] = this.vHi;
    words[2 * i + LO_WORD] = this.vLo;
  }

  get numSamples(): number {
    return this.total;
  }

  next(): boolean {
    const n = this.numRead;
    if (n >= this.total) return false;
    if (this.failure !== null) throw this.failure;
    try {
      if (n === 0) {
        this.readFirstSample();
      } else {
        if (n === 1) this.readSecondTimestamp();
        else this.readTimestamp();
        this.readValue();
      }
      this.numRead = n + 1;
      if (n + 1 === this.total) this.checkEnd();
    } catch (err) {
      if (err instanceof ChunkCorruptError) {
        this.failure = new ChunkCorruptError(`${err.detail} (sample ${n + 1} of ${this.total})`);
        throw this.failure;
      }
      throw err;
    }
    return true;
  }

  /** Advances to the first sample with timestamp ≥ t; false when there is none. */
  seek(t: number): boolean {
    if (this.numRead > 0 && this.curT >= t) return true;
    while (this.next()) {
      if (this.curT >= t) return true;
    }
    return false;
  }

  /** Reads to the end and returns what an appender needs to continue (internal to src/chunk). */
  resumeState(): XorResumeState {
    while (this.next()) {
      // replaying every sample rebuilds the delta and value window
    }
    return {
      numSamples: this.total,
      bitLength: this.r.pos,
      lastWriteByteSized: this.lastWriteByteSized,
      firstT: this.firstT,
      t: this.curT,
      tDelta: this.tDelta,
      tDeltaBig: this.tDeltaBig,
      vHi: this.vHi,
      vLo: this.vLo,
      leading: this.leading,
      trailing: this.trailing,
      hasWindow: this.hasWindow,
    };
  }

  private readFirstSample(): void {
    const raw = readVarint(this.r);
    const t = typeof raw === 'bigint' && raw >= -MAX_SAFE_BIG && raw <= MAX_SAFE_BIG ? Number(raw) : raw;
    if (typeof t === 'bigint' || !Number.isSafeInteger(t)) {
      throw new ChunkCorruptError(`first timestamp ${t} is outside the safe integer range`);
    }
    this.curT = t === 0 ? 0 : t;
    this.firstT = this.curT;
    this.vHi = this.r.readBits(32);
    this.vLo = this.r.readBits(32);
    this.lastWriteByteSized = true;
  }

  private readSecondTimestamp(): void {
    const pos = this.r.pos;
    const delta = readUvarint(this.r);
    if (typeof delta === 'number' && delta > 0) {
      const t = this.curT + delta;
      if (t <= MAX_SAFE) {
        this.curT = t;
        this.tDelta = delta;
        return;
      }
    }
    this.setDeltaExact(BigInt.asIntN(64, BigInt(delta)), pos);
  }

  private readTimestamp(): void {
    const r = this.r;
    const pos = r.pos;
    if (r.readBit() === 0) {
      // Same delta as before; the previous step already proved it fits.
      if (this.tDeltaBig === null) {
        const t = this.curT + this.tDelta;
        if (t <= MAX_SAFE) {
          this.curT = t;
          return;
        }
      }
      this.addDodExact(0n, pos);
      return;
    }
    let dod: number;
    if (r.readBit() === 0) {
      dod = r.readBits(14);
      if (dod > 8192) dod -= 16384;
    } else if (r.readBit() === 0) {
      dod = r.readBits(17);
      if (dod > 65536) dod -= 131072;
    } else if (r.readBit() === 0) {
      dod = r.readBits(20);
      if (dod > 524288) dod -= 1048576;
    } else {
      const hi = r.readBits(32);
      const lo = r.readBits(32);
      const hiSigned = hi | 0;
      if (hiSigned < -0x200000 || hiSigned >= 0x200000) {
        this.addDodExact(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)), pos);
        return;
      }
      dod = hiSigned * TWO_POW_32 + lo; // |dod| < 2^53: exact
    }
    if (this.tDeltaBig === null) {
      const delta = this.tDelta + dod;
      if (delta > 0 && delta <= MAX_SAFE) {
        const t = this.curT + delta;
        if (t <= MAX_SAFE) {
          this.curT = t;
          this.tDelta = delta;
          return;
        }
      }
    }
    this.addDodExact(BigInt(dod), pos);
  }

  /** The rare path: delta-of-delta arithmetic in 64-bit two's complement, as Prometheus does it. */
  private addDodExact(dod: bigint, pos: number): void {
    const prev = this.tDeltaBig ?? BigInt(this.tDelta);
    this.setDeltaExact(BigInt.asIntN(64, prev + dod), pos);
  }

  private setDeltaExact(delta: bigint, pos: number): void {
    if (delta <= 0n) {
      throw new ChunkCorruptError(`timestamp delta ${delta} at bit ${pos} is not positive`);
    }
    const t = BigInt(this.curT) + delta;
    if (t > MAX_SAFE_BIG) {
      throw new ChunkCorruptError(`timestamp ${t} at bit ${pos} is outside the safe integer range`);
    }
    this.curT = Number(t);
    this.tDelta = Number(delta);
    this.tDeltaBig = delta > MAX_SAFE_BIG ? delta : null;
  }

  private readValue(): void {
    const r = this.r;
    if (r.readBit() === 0) {
      this.lastWriteByteSized = false;
      return;
    }
    if (r.readBit() !== 0) {
      const pos = r.pos;
      const leading = r.readBits(5);
      let sigBits = r.readBits(6);
      if (sigBits === 0) sigBits = 64;
      if (leading + sigBits > 64) {
        throw new ChunkCorruptError(`value window at bit ${pos} has ${leading} leading zeros and ${sigBits} significant bits`);
      }
      this.leading = leading;
      this.trailing = 64 - leading - sigBits;
      this.hasWindow = true;
    }
    // Without a window yet, a reused window is the whole 64 bits, as in Prometheus's reader.
    const trailing = this.trailing;
    const sigBits = 64 - this.leading - trailing;
    let hi = 0;
    let lo: number;
    if (sigBits > 32) {
      hi = r.readBits(sigBits - 32);
      lo = r.readBits(32);
    } else {
      lo = r.readBits(sigBits);
    }
    if (trailing >= 32) {
      hi = lo << (trailing - 32);
      lo = 0;
    } else if (trailing > 0) {
      hi = (hi << trailing) | (lo >>> (32 - trailing));
      lo = lo << trailing;
    }
    this.vHi = (this.vHi ^ hi) >>> 0;
    this.vLo = (this.vLo ^ lo) >>> 0;
    this.lastWriteByteSized = (sigBits & 7) === 0;
  }

  /** After the last sample: the chunk must end exactly where Prometheus's writer would end it. */
  private checkEnd(): void {
    const bitLen = this.r.pos;
    let expected = (bitLen + 7) >>> 3;
    if (this.lastWriteByteSized && (bitLen & 7) === 0) expected++;
    const bytes = this.bytes;
    if (bytes.length !== expected) {
      throw new ChunkCorruptError(`${bytes.length} bytes, but its samples end at bit ${bitLen}, which needs exactly ${expected}`);
    }
    const partial = bitLen & 7;
    if (partial !== 0 && (bytes[bitLen >>> 3]! & (0xff >>> partial)) !== 0) {
      throw new ChunkCorruptError(`non-zero padding after the last sample at bit ${bitLen}`);
    }
    if (expected > (bitLen + 7) >>> 3 && bytes[expected - 1] !== 0) {
      throw new ChunkCorruptError(`non-zero trailing byte at byte ${expected - 1}`);
    }
  }
}

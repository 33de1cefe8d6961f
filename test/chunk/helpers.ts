/**
 * Test helpers: a deliberately plain XOR chunk encoder (BigInt for every number, one bit at a
 * time, written from the format description) to compare the fast encoder against, and helpers to
 * build Float64Arrays from raw bit patterns.
 */
import fc from 'fast-check';

export interface RawSeries {
  readonly timestamps: number[];
  /** Each value as its 64 raw bits. */
  readonly bits: bigint[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function valuesFromBits(bits: readonly bigint[]): Float64Array {
  const values = new Float64Array(bits.length);
  const view = new DataView(values.buffer);
  bits.forEach((b, i) => view.setBigUint64(i * 8, b, LITTLE_ENDIAN));
  return values;
}

export function bitsOf(values: Float64Array): bigint[] {
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i < values.length; i++) out.push(view.getBigUint64(i * 8, LITTLE_ENDIAN));
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

class PlainBits {
  readonly bits: number[] = [];
  lastWriteByteSized = false;

  write(u: bigint, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Number((u >> BigInt(i)) & 1n));
    this.lastWriteByteSized = n % 8 === 0;
  }

  uvarint(u: bigint): void {
    while (u >= 128n) {
      this.write((u & 0x7fn) | 0x80n, 8);
      u >>= 7n;
    }
    this.write(u, 8);
  }

  toBytes(): Uint8Array {
    let n = Math.ceil(this.bits.length / 8);
    if (this.lastWriteByteSized && this.bits.length % 8 === 0 && this.bits.length > 0) n++;
    const out = new Uint8Array(n);
    this.bits.forEach((b, i) => {
      out[i >> 3]! |= b << (7 - (i & 7));
    });
    return out;
  }
}

function inRange(x: bigint, nbits: number): boolean {
  const half = 1n << BigInt(nbits - 1);
  return -(half - 1n) <= x && x <= half;
}

function countLeadingZeros64(x: bigint): number {
  let n = 0;
  for (let i = 63; i >= 0 && ((x >> BigInt(i)) & 1n) === 0n; i--) n++;
  return n;
}

function countTrailingZeros64(x: bigint): number {
  let n = 0;
  for (let i = 0; i < 64 && ((x >> BigInt(i)) & 1n) === 0n; i++) n++;
  return n;
}

/** Encodes a whole series the slow and obvious way. */
export function referenceEncode(series: RawSeries): Uint8Array {
  const w = new PlainBits();
  const n = series.timestamps.length;
  w.write(BigInt(n), 16);
  w.lastWriteByteSized = false;
  let prevT = 0n;
  let prevDelta = 0n;
  let prevV = 0n;
  let leading = -1;
  let trailing = 0;
  for (let i = 0; i < n; i++) {
    const t = BigInt(series.timestamps[i]!);
    const v = series.bits[i]!;
    if (i === 0) {
      w.uvarint(t >= 0n ? t * 2n : -t * 2n - 1n);
      w.write(v, 64);
    } else {
      const delta = t - prevT;
      if (i === 1) {
        w.uvarint(delta);
      } else {
        const dod = delta - prevDelta;
        if (dod === 0n) w.write(0n, 1);
        else if (inRange(dod, 14)) (w.write(0b10n, 2), w.write(BigInt.asUintN(14, dod), 14));
        else if (inRange(dod, 17)) (w.write(0b110n, 3), w.write(BigInt.asUintN(17, dod), 17));
        else if (inRange(dod, 20)) (w.write(0b1110n, 4), w.write(BigInt.asUintN(20, dod), 20));
        else (w.write(0b1111n, 4), w.write(BigInt.asUintN(64, dod), 64));
      }
      prevDelta = delta;
      const x = v ^ prevV;
      if (x === 0n) {
        w.write(0n, 1);
      } else {
        w.write(1n, 1);
        const lz = Math.min(countLeadingZeros64(x), 31);
        const tz = countTrailingZeros64(x);
        if (leading >= 0 && lz >= leading && tz >= trailing) {
          w.write(0n, 1);
          w.write(x >> BigInt(trailing), 64 - leading - trailing);
        } else {
          leading = lz;
          trailing = tz;
          const sig = 64 - lz - tz;
          w.write(1n, 1);
          w.write(BigInt(lz), 5);
          w.write(BigInt(sig % 64), 6);
          w.write(x >> BigInt(tz), sig);
        }
      }
    }
    prevT = t;
    prevV = v;
  }
  return w.toBytes();
}

// ---- fast-check arbitraries ----

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** Bit patterns that matter: NaNs with payloads, the staleness marker, infinities, zeros, subnormals. */
export const SPECIAL_BITS: readonly bigint[] = [
  0x7ff0000000000002n, // staleness marker
  0x7ff8000000000000n, // canonical quiet NaN
  0x7ff8000000000001n, // Go's math.NaN()
  0xfff0000000000001n, // negative signalling NaN
  0x7fffffffffffffffn, // NaN with every payload bit
  0x7ff0000000000000n, // +Inf
  0xfff0000000000000n, // -Inf
  0x0000000000000000n, // +0
  0x8000000000000000n, // -0
  0x0000000000000001n, // smallest subnormal
  0x000fffffffffffffn, // largest subnormal
  0x7fefffffffffffffn, // largest finite
  0x3ff0000000000000n, // 1
  0x3ff0000000000001n, // 1 + ulp
];

/** A value as raw bits: random patterns, special ones, and realistic doubles. */
export const valueBits: fc.Arbitrary<bigint> = fc.oneof(
  u64,
  fc.constantFrom(...SPECIAL_BITS),
  fc.double({ noNaN: true }).map((d) => bitsOf(new Float64Array([d]))[0]!),
  fc.integer({ min: 0, max: 1000 }).map((k) => bitsOf(new Float64Array([k / 4]))[0]!),
);

/** Values where most samples repeat or nudge the previous one (as real series do). */
export const valueSeriesBits = (maxLength: number): fc.Arbitrary<bigint[]> =>
  fc.array(fc.tuple(fc.nat(3), valueBits, fc.bigInt({ min: 1n, max: 1n << 20n })), { maxLength }).map((steps) => {
    const out: bigint[] = [];
    let prev = 0x4059000000000000n; // 100
    for (const [kind, fresh, nudge] of steps) {
      if (kind === 0) prev = fresh;
      else if (kind === 2) prev = BigInt.asUintN(64, prev ^ nudge);
      else if (kind === 3) prev = BigInt.asUintN(64, prev + (nudge << 20n));
      out.push(prev);
    }
    return out;
  });

/** Strictly increasing safe-integer timestamps with regular, jittered, irregular and huge gaps. */
export const timestampSeries = (length: number): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.oneof(fc.maxSafeInteger(), fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }), fc.constant(-MAX_SAFE)),
      fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(15_000) },
          { weight: 3, arbitrary: fc.integer({ min: 14_000, max: 16_000 }) },
          { weight: 2, arbitrary: fc.integer({ min: 1, max: 2_000_000 }) },
          { weight: 1, arbitrary: fc.maxSafeNat() },
          { weight: 1, arbitrary: fc.maxSafeNat().map((x) => x * 2 + 2) },
        ),
        { minLength: length, maxLength: length },
      ),
    )
    .map(([start, gaps]) => {
      const ts: number[] = [];
      let t = start;
      if (!Number.isSafeInteger(t)) return ts;
      ts.push(t);
      for (const gap of gaps) {
        if (ts.length >= length) break;
        const next = t + gap;
        if (!(next <= MAX_SAFE) || next === t) break;
        // next is exact here: t + gap rounds only beyond 2^53, which the check above excludes.
        t = next;
        ts.push(t);
      }
      return ts;
    });

/** A series: timestamps and value bits of equal length (1..maxLength samples). */
export const rawSeries = (maxLength: number): fc.Arbitrary<RawSeries> =>
  fc
    .tuple(timestampSeries(maxLength), valueSeriesBits(maxLength), fc.array(valueBits, { minLength: maxLength, maxLength }))
    .map(([timestamps, bits, filler]) => {
      const all = bits.length >= timestamps.length ? bits : [...bits, ...filler];
      return { timestamps, bits: all.slice(0, timestamps.length) };
    })
    .filter((s) => s.timestamps.length > 0);

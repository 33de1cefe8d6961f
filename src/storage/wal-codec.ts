import { MetricstorError } from '../errors.js';

/**
 * The value of a `W` write-ahead record: the samples of one append request by series id
 * (layout in docs/format/kv-keys.md). Values are copied as raw bytes, so NaN payloads survive.
 */

const VERSION = 0x01;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Below this magnitude zigzag arithmetic on plain numbers stays exact. */
const EXACT_LIMIT = 2 ** 51;

/** The samples of a record's series, column by column: series k is [starts[k], ends[k]) of both arrays. */
export interface WalColumns {
  readonly timestamps: ArrayLike<number>;
  readonly values: Float64Array;
  readonly starts: ArrayLike<number>;
  readonly ends: ArrayLike<number>;
}

export interface DecodedWalSeries {
  readonly sid: bigint;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Zigzag of t - prev, exact for any two safe integers (bigint when the difference is large). */
function zigzagDelta(t: number, prev: number): number | bigint {
  const v = t - prev;
  if (Math.abs(v) < EXACT_LIMIT) return v >= 0 ? v * 2 : -v * 2 - 1;
  const b = BigInt(t) - BigInt(prev);
  return b >= 0n ? b * 2n : -b * 2n - 1n;
}

function addUnzigzag(prev: number, u: number | bigint): number {
  if (typeof u === 'number') return prev + (u % 2 === 0 ? u / 2 : -(u + 1) / 2);
  return Number(BigInt(prev) + (u % 2n === 0n ? u / 2n : -(u + 1n) / 2n));
}

class Writer {
  buf: Uint8Array;
  private view: DataView;
  at = 0;
  constructor(sizeBytes: number) {
    this.buf = new Uint8Array(sizeBytes);
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.at++] = b;
  }
  uvarint(u: number | bigint): void {
    this.ensure(10);
    if (typeof u === 'bigint') {
      while (u >= 0x80n) {
        this.buf[this.at++] = Number(u & 0x7fn) | 0x80;
        u >>= 7n;
      }
      this.buf[this.at++] = Number(u);
      return;
    }
    while (u >= 0x80) {
      this.buf[this.at++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    this.buf[this.at++] = u;
  }
  /** Big-endian; through a DataView, so no intermediate bigints are made. */
  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.at, v, false);
    this.at += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  /** src[from, from + n), copied a byte at a time: for the few bytes of a series, cheaper than a view. */
  range(src: Uint8Array, from: number, n: number): void {
    this.ensure(n);
    const b = this.buf;
    let at = this.at;
    for (let i = from; i < from + n; i++) b[at++] = src[i]!;
    this.at = at;
  }
}

function valueBytesLE(values: Float64Array, n: number): Uint8Array {
  const raw = new Uint8Array(values.buffer, values.byteOffset, n * 8);
  if (LITTLE_ENDIAN) return raw;
  const out = new Uint8Array(n * 8);
  for (let i = 0; i < n; i++) for (let j = 0; j < 8; j++) out[i * 8 + j] = raw[i * 8 + 7 - j]!;
  return out;
}

/** One record holding the samples of series k under `sids[k]`; series without samples are left out. */
export function encodeWalRecord(sids: readonly bigint[], columns: WalColumns): Uint8Array {
  const { timestamps, values, starts, ends } = columns;
  let estimate = 8;
  let count = 0;
  for (let k = 0; k < sids.length; k++) {
    const n = ends[k]! - starts[k]!;
    if (n === 0) continue;
    count++;
    estimate += 20 + n * 12;
  }
  const w = new Writer(estimate);
  w.byte(VERSION);
  w.uvarint(count);
  const valueBytes = LITTLE_ENDIAN ? new Uint8Array(values.buffer) : null;
  for (let k = 0; k < sids.length; k++) {
    const start = starts[k]!;
    const end = ends[k]!;
    const n = end - start;
    if (n === 0) continue;
    w.u64(sids[k]!);
    w.uvarint(n);
    let prev = 0;
    for (let i = start; i < end; i++) {
      const t = timestamps[i]!;
      w.uvarint(zigzagDelta(t, prev));
      prev = t;
    }
    if (valueBytes !== null) w.range(valueBytes, values.byteOffset + start * 8, n * 8);
    else w.bytes(valueBytesLE(values.subarray(start, end), n));
  }
  return w.buf.subarray(0, w.at);
}

export function decodeWalRecord(bytes: Uint8Array): DecodedWalSeries[] {
  let at = 0;
  const fail = (why: string): never => {
    throw new MetricstorError('internal', `corrupt write-ahead record: ${why}`);
  };
  const uvarint = (): number | bigint => {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= bytes.length) return fail('truncated varint');
      const b = bytes[at++]!;
      if (i >= 7) {
        // beyond 49 bits: continue exactly with bigint
        let big = BigInt(n) + BigInt(b & 0x7f) * BigInt(scale);
        let shift = BigInt(scale) * 128n;
        let last = b;
        while (last >= 0x80) {
          if (at >= bytes.length) return fail('truncated varint');
          last = bytes[at++]!;
          big += BigInt(last & 0x7f) * shift;
          shift *= 128n;
        }
        return big;
      }
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
    return fail('varint too long');
  };
  if (bytes[at++] !== VERSION) fail(`unknown version ${bytes[0]}`);
  const count = Number(uvarint());
  const out: DecodedWalSeries[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let s = 0; s < count; s++) {
    if (at + 8 > bytes.length) fail('truncated series id');
    const sid = dv.getBigUint64(at, false);
    at += 8;
    const n = Number(uvarint());
    const timestamps = new Float64Array(n);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      prev = addUnzigzag(prev, uvarint());
      timestamps[i] = prev;
    }
    if (at + n * 8 > bytes.length) fail('truncated values');
    const values = new Float64Array(n);
    const raw = new Uint8Array(values.buffer);
    if (LITTLE_ENDIAN) raw.set(bytes.subarray(at, at + n * 8));
    else for (let i = 0; i < n * 8; i++) raw[i] = bytes[at + (i - (i % 8)) + 7 - (i % 8)]!;
    at += n * 8;
    out.push({ sid, timestamps, values });
  }
  if (at !== bytes.length) fail('trailing bytes');
  return out;
}

/**
 * The compacted block encoding (docs/format/chunks.md, "Block encoding"): every sample of one
 * series in one closed window in one value, denser than XOR. Timestamps are delta-of-delta
 * varints; values are decimal integers (mantissa × scale / 10^exponent) coded as raw, delta or
 * delta-of-delta zig-zag varints when every value of the block round-trips bit for bit, and an XOR
 * chunk otherwise. The body is then deflated when that makes it smaller.
 *
 *   byte flags (bit 0: body deflated, raw), uvarint sample count, body
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ChunkCorruptError } from './errors.js';
import { MAX_SAMPLES_PER_CHUNK, XorAppender, XorIterator, chunkNumSamples, decodeXorChunk } from './index.js';

/** A block holds at most this many samples (the XOR fallback's 16-bit count). */
export const MAX_SAMPLES_PER_BLOCK = MAX_SAMPLES_PER_CHUNK;

const FLAG_DEFLATE = 0x01;
const KIND_XOR = 0x00;
const KIND_DECIMAL = 0x01;
const ORDER_RAW = 0;
const ORDER_DELTA = 1;
const ORDER_DELTA_OF_DELTA = 2;

/** Zig-zag values stay exact in doubles while the signed input is within ±2^52. */
const MAX_CODED = 2 ** 52;
const MAX_DECIMALS = 15;
const POW10: readonly number[] = Array.from({ length: MAX_DECIMALS + 1 }, (_, e) => 10 ** e);
const DEFLATE_LEVEL = 6;

export interface BlockSamples {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Encodes samples (strictly increasing safe-integer timestamps) into a block. */
export function encodeBlock(timestamps: Float64Array, values: Float64Array): Uint8Array {
  const n = timestamps.length;
  if (n !== values.length) throw new RangeError('timestamps and values differ in length');
  if (n > MAX_SAMPLES_PER_BLOCK) throw new RangeError(`a block holds at most ${MAX_SAMPLES_PER_BLOCK} samples`);
  const body = decimalBody(timestamps, values) ?? xorBody(timestamps, values);
  const deflated = deflateRawSync(body, { level: DEFLATE_LEVEL });
  const compress = deflated.length < body.length;
  const w = new ByteWriter(4 + (compress ? deflated.length : body.length));
  w.byte(compress ? FLAG_DEFLATE : 0);
  w.uvarint(n);
  w.append(compress ? deflated : body);
  return w.bytes();
}

/** The number of samples in a block, without decoding it. Throws ChunkCorruptError. */
export function blockSampleCount(bytes: Uint8Array): number {
  return readPrefix(bytes).count;
}

/** The samples of a block, values bit for bit. Throws ChunkCorruptError. */
export function decodeBlock(bytes: Uint8Array): BlockSamples {
  const { flags, count, bodyAt } = readPrefix(bytes);
  let body: Uint8Array = bytes.subarray(bodyAt);
  if ((flags & FLAG_DEFLATE) !== 0) body = inflateBody(body, count);
  if (body.length === 0) throw new ChunkCorruptError('empty block body');
  const kind = body[0]!;
  let out: BlockSamples;
  if (kind === KIND_XOR) out = decodeXorChunk(body.subarray(1));
  else if (kind === KIND_DECIMAL) out = decodeDecimal(new ByteReader(body, 1), count);
  else throw new ChunkCorruptError(`unknown block kind ${kind}`);
  if (out.timestamps.length !== count) throw new ChunkCorruptError(`block holds ${out.timestamps.length} samples, its header says ${count}`);
  return out;
}

/**
 * Decodes a block into timestamps[at...] and slots at... of `words` (a Uint32Array over the
 * values' Float64Array), which need room for blockSampleCount samples. Returns the count.
 */
export function decodeBlockInto(bytes: Uint8Array, timestamps: Float64Array, words: Uint32Array, at: number): number {
  const d = decodeBlock(bytes);
  timestamps.set(d.timestamps, at);
  words.set(new Uint32Array(d.values.buffer, d.values.byteOffset, d.values.length * 2), 2 * at);
  return d.timestamps.length;
}

// ---- partial reads -------------------------------------------------------------------------------

/**
 * A block's body inflated and checked once, from which any stretch of samples can be decoded
 * without decoding the rest: what a reader keeps to serve many short reads of one block (about 2–4
 * bytes per sample for the decimal kind instead of 16 decoded).
 */
export interface InflatedBlock {
  readonly count: number;
  /** The body: kind byte, then the samples. Owned by this object (never a view of the input). */
  readonly body: Uint8Array;
  /** Decimal kind: offset in body of the value stream, after the n timestamps. XOR kind: 1. */
  readonly valuesAt: number;
  /**
   * Decimal kind: the decoder's state before every CHECKPOINT_EVERY-th sample (from sample
   * CHECKPOINT_EVERY on), CHECKPOINT_WORDS numbers each, so a read starts near its first sample
   * instead of at the block's start. Empty for the XOR kind.
   */
  readonly checkpoints: Float64Array;
  /** The newest samples decoded (blockWithTail), or null while nobody asked for them. */
  readonly tail: BlockTail | null;
}

/**
 * The newest samples of a decimal block decoded, from the third-last checkpoint on (33 to 48
 * samples, or all of a shorter block): a read of the last few minutes, as an instant query makes,
 * copies them instead of decoding.
 */
export interface BlockTail {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** A Uint32Array over exactly the memory of `values`, to copy values bit for bit. */
  readonly words: Uint32Array;
}

/** Checkpoints a tail reaches back from the block's last sample. */
const TAIL_CHECKPOINTS = 3;

/** Samples between two checkpoints of an inflated decimal block (about 0.75 bytes per sample). */
export const CHECKPOINT_EVERY = 16;
/** Per checkpoint: previous timestamp, previous gap, timestamp byte offset, previous q, previous q delta, value byte offset. */
const CHECKPOINT_WORDS = 6;

/** Samples [lo, hi) of a block by position. */
export interface BlockSpan {
  readonly lo: number;
  readonly hi: number;
}

/** Inflates a block and checks its structure (every varint, the XOR bit count). Throws ChunkCorruptError. */
export function inflateBlock(bytes: Uint8Array): InflatedBlock {
  const { flags, count, bodyAt } = readPrefix(bytes);
  const body = (flags & FLAG_DEFLATE) !== 0 ? inflateBody(bytes.subarray(bodyAt), count) : bytes.slice(bodyAt);
  if (body.length === 0) throw new ChunkCorruptError('empty block body');
  const kind = body[0]!;
  if (kind === KIND_XOR) {
    const n = chunkNumSamples(body.subarray(1));
    if (n !== count) throw new ChunkCorruptError(`block holds ${n} samples, its header says ${count}`);
    return { count, body, valuesAt: 1, checkpoints: new Float64Array(0), tail: null };
  }
  if (kind !== KIND_DECIMAL) throw new ChunkCorruptError(`unknown block kind ${kind}`);
  const checkpoints = new Float64Array(Math.floor((count - 1) / CHECKPOINT_EVERY) * CHECKPOINT_WORDS);
  const r = new ByteReader(body, 1);
  readTimestamps(r, count, null, Infinity, 0, checkpoints);
  const valuesAt = r.position();
  const { order } = readValueHeader(r);
  readQuantities(r, count, order, null, checkpoints);
  if (r.remaining() !== 0) throw new ChunkCorruptError(`${r.remaining()} bytes after the last sample`);
  return { count, body, valuesAt, checkpoints, tail: null };
}

/** The first sample a tail of the decimal block holds. */
function tailFrom(b: InflatedBlock): number {
  return Math.max(0, checkpointAtOrBefore(b.count - 1) - (TAIL_CHECKPOINTS - 1) * CHECKPOINT_EVERY);
}

/** True when the block is of the decimal kind and every one of its samples at or after startMs is in its tail. */
export function tailHolds(b: InflatedBlock, startMs: number): boolean {
  if (b.body[0] !== KIND_DECIMAL) return false;
  const from = tailFrom(b);
  // the checkpoint before sample `from` keeps the timestamp of sample from - 1
  return from === 0 || b.checkpoints[(from / CHECKPOINT_EVERY - 1) * CHECKPOINT_WORDS]! < startMs;
}

/** The block with its tail decoded (itself when it has one already). Decimal kind only. */
export function blockWithTail(b: InflatedBlock): InflatedBlock {
  if (b.tail !== null) return b;
  const from = tailFrom(b);
  const n = b.count - from;
  const memory = new Float64Array(2 * n);
  const timestamps = memory.subarray(0, n);
  const values = memory.subarray(n);
  const words = new Uint32Array(memory.buffer, values.byteOffset, 2 * n);
  decodeBlockSpanInto(b, { lo: from, hi: b.count }, timestamps, words, 0);
  return { ...b, tail: { timestamps, values, words } };
}

/** The last checkpoint at or before sample `i`, as the index of its first sample (0: the block's start). */
function checkpointAtOrBefore(i: number): number {
  return Math.floor(i / CHECKPOINT_EVERY) * CHECKPOINT_EVERY;
}

/** The first sample of the last checkpoint whose previous timestamp is before startMs (0 when none). */
function checkpointBeforeTime(b: InflatedBlock, startMs: number): number {
  const cp = b.checkpoints;
  let lo = 0;
  let hi = cp.length / CHECKPOINT_WORDS;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cp[mid * CHECKPOINT_WORDS]! < startMs) lo = mid + 1;
    else hi = mid;
  }
  return lo * CHECKPOINT_EVERY;
}

/** The positions of the samples within [startMs, endMs]; reads timestamps only up to endMs. */
export function blockSpan(b: InflatedBlock, startMs: number, endMs: number): BlockSpan {
  let lo = 0;
  let hi = 0;
  if (b.body[0] === KIND_XOR) {
    const it = new XorIterator(b.body.subarray(1));
    while (it.next() && it.t <= endMs) {
      if (it.t < startMs) lo++;
      hi++;
    }
    return { lo, hi };
  }
  const from = checkpointBeforeTime(b, startMs);
  const c = (from / CHECKPOINT_EVERY - 1) * CHECKPOINT_WORDS;
  const body = b.body;
  cursor = from === 0 ? 1 : b.checkpoints[c + 2]!;
  let t = from === 0 ? 0 : b.checkpoints[c]!;
  let delta = from === 0 ? 0 : b.checkpoints[c + 1]!;
  lo = from;
  hi = from;
  for (; hi < b.count; hi++) {
    const x = nextZigzag(body);
    if (hi === 0) t = x;
    else {
      delta = hi === 1 ? x : delta + x;
      t += delta;
    }
    if (t > endMs) break;
    if (t < startMs) lo++;
  }
  return { lo, hi };
}

/**
 * Decodes samples [span.lo, span.hi) of a block into timestamps[at...] and slots at... of `words`
 * (a Uint32Array over the values' Float64Array), values bit for bit. Returns span.hi - span.lo.
 */
export function decodeBlockSpanInto(b: InflatedBlock, span: BlockSpan, timestamps: Float64Array, words: Uint32Array, at: number): number {
  const { lo, hi } = span;
  if (hi <= lo) return 0;
  if (b.body[0] === KIND_XOR) {
    const it = new XorIterator(b.body.subarray(1));
    for (let i = 0; i < hi && it.next(); i++) {
      if (i < lo) continue;
      timestamps[at + i - lo] = it.t;
      it.wordsInto(words, at + i - lo);
    }
    return hi - lo;
  }
  const from = checkpointAtOrBefore(lo);
  const c = (from / CHECKPOINT_EVERY - 1) * CHECKPOINT_WORDS;
  const cp = b.checkpoints;
  const body = b.body;
  cursor = from === 0 ? 1 : cp[c + 2]!;
  let t = from === 0 ? 0 : cp[c]!;
  let delta = from === 0 ? 0 : cp[c + 1]!;
  for (let i = from; i < hi; i++) {
    const x = nextZigzag(body);
    if (i === 0) t = x;
    else {
      delta = i === 1 ? x : delta + x;
      t += delta;
    }
    if (i >= lo) timestamps[at + i - lo] = t;
  }
  const r = new ByteReader(body, b.valuesAt);
  const { e, scale, order } = readValueHeader(r);
  cursor = from > 0 ? cp[c + 5]! : r.position();
  const p = POW10[e]!;
  let v = from === 0 ? 0 : cp[c + 3]!;
  let d = from === 0 ? 0 : cp[c + 4]!;
  for (let i = from; i < hi; i++) {
    const x = nextZigzag(body);
    if (order === ORDER_RAW) v = x;
    else if (order === ORDER_DELTA || i < 2) {
      d = x;
      v += d;
    } else {
      d += x;
      v += d;
    }
    if (i < lo) continue;
    const m = v * scale;
    wordScratch[0] = e === 0 ? m : m / p;
    const j = 2 * (at + i - lo);
    words[j] = scratchWords[0]!;
    words[j + 1] = scratchWords[1]!;
  }
  return hi - lo;
}

/**
 * Where nextZigzag reads next. Only for bodies inflateBlock checked: each of their varints ends
 * within the body and stays within 2^53, so the partial reads need no bounds checks.
 */
let cursor = 0;

function nextZigzag(b: Uint8Array): number {
  let byte = b[cursor++]!;
  let u = byte & 0x7f;
  let scale = 0x80;
  while (byte >= 0x80) {
    byte = b[cursor++]!;
    u += (byte & 0x7f) * scale;
    scale *= 0x80;
  }
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

function inflateBody(deflated: Uint8Array, count: number): Uint8Array {
  let out: Buffer;
  try {
    // Room for a typical decimal body at once: zlib's default 16 KiB output chunk would otherwise be
    // allocated for every block and held by the returned view.
    out = inflateRawSync(deflated, { chunkSize: Math.max(INFLATE_MIN_CHUNK, 4 * count + 64) });
  } catch (err) {
    throw new ChunkCorruptError(`block does not inflate: ${(err as Error).message}`);
  }
  return out.buffer.byteLength === out.length ? out : new Uint8Array(out);
}
const INFLATE_MIN_CHUNK = 64;

/** One value and its two words, to write a number into a word array without a view per call. */
const wordScratch = new Float64Array(1);
const scratchWords = new Uint32Array(wordScratch.buffer);

function readPrefix(bytes: Uint8Array): { flags: number; count: number; bodyAt: number } {
  const r = new ByteReader(bytes, 0);
  const flags = r.byte();
  if ((flags & ~FLAG_DEFLATE) !== 0) throw new ChunkCorruptError(`unknown block flags ${flags}`);
  const count = r.uvarint();
  if (count > MAX_SAMPLES_PER_BLOCK) throw new ChunkCorruptError(`block claims ${count} samples`);
  return { flags, count, bodyAt: bytes.length - r.remaining() };
}

function xorBody(timestamps: Float64Array, values: Float64Array): Uint8Array {
  const app = new XorAppender();
  for (let i = 0; i < timestamps.length; i++) app.appendFrom(values, i, timestamps[i]!);
  const xor = app.bytes();
  const out = new Uint8Array(xor.length + 1);
  out[0] = KIND_XOR;
  out.set(xor, 1);
  return out;
}

// ---- decimal kind --------------------------------------------------------------------------------
//
//   kind 0x01 (the sample count n is in the block's prefix)
//   timestamps: zig-zag t0, then (n > 1) zig-zag t1 - t0, then n - 2 zig-zag delta-of-deltas
//   values:     uvarint exponent e (0..15), uvarint scale s (>= 1), byte order (0 raw, 1 delta,
//               2 delta-of-delta), n zig-zag varints of q (value i = q_i × s / 10^e)

/** The body, or null when some timestamp gap or value does not fit the decimal kind exactly. */
function decimalBody(timestamps: Float64Array, values: Float64Array): Uint8Array | null {
  const n = timestamps.length;
  const e = blockDecimals(values);
  if (e < 0) return null;
  const p = POW10[e]!;
  const q = new Float64Array(n);
  let scale = 0;
  for (let i = 0; i < n; i++) {
    const m = e === 0 ? values[i]! : Math.round(values[i]! * p);
    if (!(Math.abs(m) <= Number.MAX_SAFE_INTEGER) || !Object.is(e === 0 ? m : m / p, values[i]!)) return null;
    q[i] = m;
    scale = gcd(scale, Math.abs(m));
  }
  if (scale === 0) scale = 1;
  if (scale > 1) for (let i = 0; i < n; i++) q[i] = q[i]! / scale;
  const order = cheapestOrder(q);
  if (order < 0) return null;
  const w = new ByteWriter(16 + 2 * n);
  w.byte(KIND_DECIMAL);
  if (!writeTimestamps(w, timestamps)) return null;
  w.uvarint(e);
  w.uvarint(scale);
  w.byte(order);
  writeOrdered(w, q, order);
  return w.bytes();
}

/** Fewest decimals that hold every value exactly (-1 when one needs more than 15, or is not finite). */
function blockDecimals(values: Float64Array): number {
  let e = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isInteger(v)) {
      if (Object.is(v, -0)) return -1;
      continue;
    }
    if (!Number.isFinite(v)) return -1;
    while (e <= MAX_DECIMALS && Math.round(v * POW10[e]!) / POW10[e]! !== v) e++;
    if (e > MAX_DECIMALS) return -1;
  }
  return e;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

function zigzagBytes(x: number): number {
  const z = x >= 0 ? 2 * x : -2 * x - 1;
  if (z < 0x80) return 1;
  if (z < 0x4000) return 2;
  if (z < 0x20_0000) return 3;
  if (z < 0x1000_0000) return 4;
  return Math.ceil(Math.log2(z + 1) / 7);
}

/** The order (raw, delta, delta-of-delta) with the fewest bytes, or -1 when none stays exact. */
function cheapestOrder(q: Float64Array): number {
  const cost = [0, 0, 0];
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < q.length; i++) {
    const v = q[i]!;
    const d = v - prev;
    const dd = d - prevDelta;
    cost[ORDER_RAW]! += Math.abs(v) <= MAX_CODED ? zigzagBytes(v) : Infinity;
    cost[ORDER_DELTA]! += Math.abs(d) <= MAX_CODED ? zigzagBytes(d) : Infinity;
    const ddWritten = i < 2 ? d : dd;
    cost[ORDER_DELTA_OF_DELTA]! += Math.abs(ddWritten) <= MAX_CODED ? zigzagBytes(ddWritten) : Infinity;
    prev = v;
    if (i >= 1) prevDelta = d;
  }
  let best = -1;
  for (let o = 0; o < cost.length; o++) if (Number.isFinite(cost[o]!) && (best < 0 || cost[o]! < cost[best]!)) best = o;
  return best;
}

function writeOrdered(w: ByteWriter, q: Float64Array, order: number): void {
  let prev = 0;
  let prevDelta = 0;
  for (let i = 0; i < q.length; i++) {
    const v = q[i]!;
    const d = v - prev;
    if (order === ORDER_RAW) w.zigzag(v);
    else if (order === ORDER_DELTA || i < 2) w.zigzag(d);
    else w.zigzag(d - prevDelta);
    prev = v;
    if (i >= 1) prevDelta = d;
  }
}

function writeTimestamps(w: ByteWriter, t: Float64Array): boolean {
  const n = t.length;
  if (n === 0) return true;
  if (!(Math.abs(t[0]!) <= MAX_CODED)) return false;
  w.zigzag(t[0]!);
  let prevDelta = 0;
  for (let i = 1; i < n; i++) {
    const d = t[i]! - t[i - 1]!;
    if (!(d > 0 && d <= MAX_CODED)) return false;
    const dd = i === 1 ? d : d - prevDelta;
    w.zigzag(dd);
    prevDelta = d;
  }
  return true;
}

/**
 * Reads n timestamps; with `out`, writes those from position `from` on to out[at...]. `from` =
 * Infinity only checks them. With `checkpoints`, records the timestamp state of every
 * CHECKPOINT_EVERY-th sample there (words 0-2 of each checkpoint).
 */
function readTimestamps(r: ByteReader, n: number, out: Float64Array | null, from: number, at = 0, checkpoints: Float64Array | null = null): void {
  let t = 0;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    if (checkpoints !== null && i > 0 && i % CHECKPOINT_EVERY === 0) {
      const c = (i / CHECKPOINT_EVERY - 1) * CHECKPOINT_WORDS;
      checkpoints[c] = t;
      checkpoints[c + 1] = delta;
      checkpoints[c + 2] = r.position();
    }
    const x = r.zigzag();
    if (i === 0) t = x;
    else {
      delta = i === 1 ? x : delta + x;
      if (!(delta > 0)) throw new ChunkCorruptError(`timestamp ${i} does not increase`);
      t += delta;
    }
    if (!(Math.abs(t) <= Number.MAX_SAFE_INTEGER)) throw new ChunkCorruptError(`timestamp ${i} out of range`);
    if (out !== null && i >= from) out[at + i - from] = t;
  }
}

/**
 * Reads n coded integers of the values stream in `order`; with `out`, writes them to out[0...];
 * with `checkpoints`, records the value state of every CHECKPOINT_EVERY-th sample there (words
 * 3-5 of each checkpoint).
 */
function readQuantities(r: ByteReader, n: number, order: number, out: Float64Array | null, checkpoints: Float64Array | null): void {
  let v = 0;
  let d = 0;
  for (let i = 0; i < n; i++) {
    if (checkpoints !== null && i > 0 && i % CHECKPOINT_EVERY === 0) {
      const c = (i / CHECKPOINT_EVERY - 1) * CHECKPOINT_WORDS;
      checkpoints[c + 3] = v;
      checkpoints[c + 4] = d;
      checkpoints[c + 5] = r.position();
    }
    const x = r.zigzag();
    if (order === ORDER_RAW) v = x;
    else if (order === ORDER_DELTA || i < 2) {
      d = x;
      v += d;
    } else {
      d += x;
      v += d;
    }
    if (out !== null) out[i] = v;
  }
}

function readValueHeader(r: ByteReader): { e: number; scale: number; order: number } {
  const e = r.uvarint();
  if (e > MAX_DECIMALS) throw new ChunkCorruptError(`block exponent ${e}`);
  const scale = r.uvarint();
  if (scale < 1) throw new ChunkCorruptError('block scale 0');
  const order = r.byte();
  if (order > ORDER_DELTA_OF_DELTA) throw new ChunkCorruptError(`block value order ${order}`);
  return { e, scale, order };
}

function decodeDecimal(r: ByteReader, n: number): BlockSamples {
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  readTimestamps(r, n, timestamps, 0);
  const { e, scale, order } = readValueHeader(r);
  const p = POW10[e]!;
  readQuantities(r, n, order, values, null);
  for (let i = 0; i < n; i++) {
    const m = values[i]! * scale;
    values[i] = e === 0 ? m : m / p;
  }
  if (r.remaining() !== 0) throw new ChunkCorruptError(`${r.remaining()} bytes after the last sample`);
  return { timestamps, values };
}

// ---- byte-aligned varints ------------------------------------------------------------------------

class ByteWriter {
  private buf: Uint8Array;
  private at = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** A non-negative integer up to 2^53. */
  uvarint(u: number): void {
    this.room(8);
    while (u >= 0x80) {
      this.buf[this.at++] = (u % 0x80) | 0x80;
      u = Math.floor(u / 0x80);
    }
    this.buf[this.at++] = u;
  }

  /** A signed integer within ±2^52. */
  zigzag(x: number): void {
    this.uvarint(x >= 0 ? 2 * x : -2 * x - 1);
  }

  append(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

class ByteReader {
  constructor(
    private readonly buf: Uint8Array,
    private at: number,
  ) {}

  byte(): number {
    if (this.at >= this.buf.length) throw new ChunkCorruptError(`block ends at byte ${this.at}`);
    return this.buf[this.at++]!;
  }

  uvarint(): number {
    let u = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      u += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (u > 2 ** 53) throw new ChunkCorruptError(`varint beyond 2^53 before byte ${this.at}`);
        return u;
      }
      scale *= 0x80;
    }
    throw new ChunkCorruptError(`varint beyond 2^53 before byte ${this.at}`);
  }

  zigzag(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  remaining(): number {
    return this.buf.length - this.at;
  }

  seek(at: number): void {
    this.at = at;
  }

  position(): number {
    return this.at;
  }
}

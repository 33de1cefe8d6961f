import { MetricstorError } from '../errors.js';
import { concat, prefixEnd } from '../kv/bytes.js';

/**
 * Every key family of the storage engine (docs/format/kv-keys.md has the byte layouts). Keys start
 * with a one-byte ASCII namespace; integers are big-endian so that bytewise order is numeric order.
 * Signed integers (days, millisecond timestamps) are stored with their sign bit flipped, so negative
 * values sort before positive ones. Series ids and writer ids are unsigned 64-bit, carried as bigint.
 */

export const NS_SERIES = 0x53; // 'S'
export const NS_POSTING = 0x49; // 'I'
export const NS_LABEL_VALUE = 0x56; // 'V'
export const NS_LABEL_NAME = 0x4e; // 'N'
export const NS_CHUNK = 0x43; // 'C'
export const NS_METADATA = 0x4d; // 'M'
export const NS_WAL = 0x57; // 'W'
export const NS_LEASE = 0x4c; // 'L'

export const DAY_MS = 86_400_000;
export const WINDOW_MS = 7_200_000;

/** UTC days since the epoch of a millisecond timestamp (negative before 1970). */
export function dayOfMs(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** Start of the 2 h-aligned window that holds `ms`. */
export function windowStartOfMs(ms: number): number {
  return Math.floor(ms / WINDOW_MS) * WINDOW_MS;
}

const TWO_32 = 0x1_0000_0000;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function need(b: Uint8Array, sizeBytes: number, what: string): void {
  if (b.length < sizeBytes) throw new MetricstorError('internal', `${what} key too short: ${b.length} bytes`);
}

function expectNamespace(key: Uint8Array, ns: number, what: string): void {
  if (key[0] !== ns) throw new MetricstorError('internal', `not a ${what} key (namespace byte ${key[0]})`);
}

/** A signed 32-bit integer with its sign bit flipped, big-endian. */
export function writeDay(into: Uint8Array, offset: number, day: number): void {
  writeU32(into, offset, (day ^ 0x8000_0000) >>> 0);
}

export function readDay(from: Uint8Array, offset: number): number {
  return (readU32(from, offset) ^ 0x8000_0000) | 0;
}

// Plain byte stores: these run for every chunk a batch writes, and a DataView per call is costly.
function writeU32(into: Uint8Array, offset: number, v: number): void {
  into[offset] = v >>> 24;
  into[offset + 1] = v >>> 16;
  into[offset + 2] = v >>> 8;
  into[offset + 3] = v;
}

function readU32(from: Uint8Array, offset: number): number {
  return ((from[offset]! << 24) | (from[offset + 1]! << 16) | (from[offset + 2]! << 8) | from[offset + 3]!) >>> 0;
}

/** A safe integer (e.g. a millisecond timestamp) as a sign-flipped big-endian int64. */
export function writeInt64(into: Uint8Array, offset: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  const lo = v - hi * TWO_32;
  writeU32(into, offset, (hi ^ 0x8000_0000) >>> 0);
  writeU32(into, offset + 4, lo);
}

export function readInt64(from: Uint8Array, offset: number): number {
  const hi = (readU32(from, offset) ^ 0x8000_0000) | 0;
  return hi * TWO_32 + readU32(from, offset + 4);
}

function writeU64(into: Uint8Array, offset: number, v: bigint): void {
  writeU32(into, offset, Number(v >> 32n));
  writeU32(into, offset + 4, Number(v & 0xffff_ffffn));
}

function readU64(from: Uint8Array, offset: number): bigint {
  return (BigInt(readU32(from, offset)) << 32n) | BigInt(readU32(from, offset + 4));
}

// ---------------------------------------------------------------------------------------------
// Label names and values inside keys. Names are [a-zA-Z_][a-zA-Z0-9_]* and never hold 0x00.
// Values may hold any character, so in keys 0x00 is written 0x01 0x01 and 0x01 is written
// 0x01 0x02; the terminator 0x00 then cannot occur inside a value and order is preserved.
// ---------------------------------------------------------------------------------------------

export function encodeKeyName(name: string): Uint8Array {
  return utf8Encoder.encode(name);
}

export function encodeKeyValue(value: string): Uint8Array {
  const raw = utf8Encoder.encode(value);
  let special = 0;
  for (const b of raw) if (b <= 0x01) special++;
  if (special === 0) return raw;
  const out = new Uint8Array(raw.length + special);
  let j = 0;
  for (const b of raw) {
    if (b <= 0x01) {
      out[j++] = 0x01;
      out[j++] = b + 1;
    } else out[j++] = b;
  }
  return out;
}

function decodeKeyValue(escaped: Uint8Array): string {
  if (!escaped.includes(0x01)) return utf8Decoder.decode(escaped);
  const out = new Uint8Array(escaped.length);
  let j = 0;
  for (let i = 0; i < escaped.length; i++) {
    const b = escaped[i]!;
    if (b === 0x01) out[j++] = escaped[++i]! - 1;
    else out[j++] = b;
  }
  return utf8Decoder.decode(out.subarray(0, j));
}

function indexOfZero(b: Uint8Array, from: number): number {
  const i = b.indexOf(0x00, from);
  if (i < 0) throw new MetricstorError('internal', 'index key lacks a 0x00 terminator');
  return i;
}

// --- S sid → encoded labels ----------------------------------------------------------------

export function seriesKey(sid: bigint): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = NS_SERIES;
  writeU64(k, 1, sid);
  return k;
}

export function decodeSeriesKey(key: Uint8Array): bigint {
  expectNamespace(key, NS_SERIES, 'series');
  need(key, 9, 'series');
  return readU64(key, 1);
}

// --- I day name 0x00 value 0x00 sid → empty --------------------------------------------------

function dayNamespace(ns: number, day: number, extra: number): Uint8Array {
  const k = new Uint8Array(5 + extra);
  k[0] = ns;
  writeDay(k, 1, day);
  return k;
}

/** `I` day name 0x00 value 0x00: all postings of one label pair on one day. */
export function postingsPrefix(day: number, name: string, value: string): Uint8Array {
  const n = encodeKeyName(name);
  const v = encodeKeyValue(value);
  const k = dayNamespace(NS_POSTING, day, n.length + 1 + v.length + 1);
  k.set(n, 5);
  k.set(v, 6 + n.length);
  return k; // both separators are already 0x00
}

/** `I` day name 0x00: all postings of one label name on one day. */
export function postingsNamePrefix(day: number, name: string): Uint8Array {
  const n = encodeKeyName(name);
  const k = dayNamespace(NS_POSTING, day, n.length + 1);
  k.set(n, 5);
  return k;
}

/** `I` day: every posting of one day. */
export function postingsDayPrefix(day: number): Uint8Array {
  return dayNamespace(NS_POSTING, day, 0);
}

/**
 * The longest posting key the storage writes. LMDB's default page size allows keys of 1978 bytes;
 * a series whose labels would need a longer key is refused before anything is written.
 */
export const MAX_INDEX_KEY_BYTES = 1900;

/** Size of the posting key of one label (the longest index key a label produces). */
export function postingKeySize(name: string, value: string): number {
  return 5 + encodeKeyName(name).length + 1 + encodeKeyValue(value).length + 1 + 8;
}

export function postingKey(day: number, name: string, value: string, sid: bigint): Uint8Array {
  const prefix = postingsPrefix(day, name, value);
  const k = new Uint8Array(prefix.length + 8);
  k.set(prefix, 0);
  writeU64(k, prefix.length, sid);
  return k;
}

export interface PostingKey {
  readonly day: number;
  readonly name: string;
  readonly value: string;
  readonly sid: bigint;
}

export function decodePostingKey(key: Uint8Array): PostingKey {
  expectNamespace(key, NS_POSTING, 'posting');
  need(key, 5 + 2 + 8, 'posting');
  const nameEnd = indexOfZero(key, 5);
  const valueEnd = indexOfZero(key, nameEnd + 1);
  if (key.length !== valueEnd + 9) throw new MetricstorError('internal', 'posting key has a bad length');
  return {
    day: readDay(key, 1),
    name: utf8Decoder.decode(key.subarray(5, nameEnd)),
    value: decodeKeyValue(key.subarray(nameEnd + 1, valueEnd)),
    sid: readU64(key, valueEnd + 1),
  };
}

/** The sid at the end of a posting key, without decoding the rest. */
export function postingKeySid(key: Uint8Array): bigint {
  return readU64(key, key.length - 8);
}

// --- V day name 0x00 value → empty -----------------------------------------------------------

export function labelValueKey(day: number, name: string, value: string): Uint8Array {
  const n = encodeKeyName(name);
  const v = encodeKeyValue(value);
  const k = dayNamespace(NS_LABEL_VALUE, day, n.length + 1 + v.length);
  k.set(n, 5);
  k.set(v, 6 + n.length);
  return k;
}

/** `V` day name 0x00: every value of one label name on one day. */
export function labelValuesPrefix(day: number, name: string): Uint8Array {
  const n = encodeKeyName(name);
  const k = dayNamespace(NS_LABEL_VALUE, day, n.length + 1);
  k.set(n, 5);
  return k;
}

export function labelValuesDayPrefix(day: number): Uint8Array {
  return dayNamespace(NS_LABEL_VALUE, day, 0);
}

export interface LabelValueKey {
  readonly day: number;
  readonly name: string;
  readonly value: string;
}

export function decodeLabelValueKey(key: Uint8Array): LabelValueKey {
  expectNamespace(key, NS_LABEL_VALUE, 'label value');
  need(key, 6, 'label value');
  const nameEnd = indexOfZero(key, 5);
  return {
    day: readDay(key, 1),
    name: utf8Decoder.decode(key.subarray(5, nameEnd)),
    value: decodeKeyValue(key.subarray(nameEnd + 1)),
  };
}

// --- N day name → empty ----------------------------------------------------------------------

export function labelNameKey(day: number, name: string): Uint8Array {
  const n = encodeKeyName(name);
  const k = dayNamespace(NS_LABEL_NAME, day, n.length);
  k.set(n, 5);
  return k;
}

export function labelNamesPrefix(day: number): Uint8Array {
  return dayNamespace(NS_LABEL_NAME, day, 0);
}

export function decodeLabelNameKey(key: Uint8Array): { day: number; name: string } {
  expectNamespace(key, NS_LABEL_NAME, 'label name');
  need(key, 6, 'label name');
  return { day: readDay(key, 1), name: utf8Decoder.decode(key.subarray(5)) };
}

// --- C sid window writer seq → chunk header + XOR bytes ----------------------------------------

export const CHUNK_KEY_BYTES = 1 + 8 + 8 + 8 + 8;

/**
 * `seq` tells apart the chunks one writer made in one window of one series (cut at 120 samples,
 * out-of-order samples). Writers build it as (incarnation << 40) | counter so that a restarted
 * writer with the same id never overwrites a chunk of its previous life; see kv-keys.md.
 */
export function chunkKey(sid: bigint, windowStartMs: number, writer: bigint, seq: bigint): Uint8Array {
  const k = new Uint8Array(CHUNK_KEY_BYTES);
  k[0] = NS_CHUNK;
  writeU64(k, 1, sid);
  writeInt64(k, 9, windowStartMs);
  writeU64(k, 17, writer);
  writeU64(k, 25, seq);
  return k;
}

export interface ChunkKey {
  readonly sid: bigint;
  readonly windowStartMs: number;
  readonly writer: bigint;
  readonly seq: bigint;
}

export function decodeChunkKey(key: Uint8Array): ChunkKey {
  expectNamespace(key, NS_CHUNK, 'chunk');
  if (key.length !== CHUNK_KEY_BYTES) throw new MetricstorError('internal', 'chunk key has a bad length');
  return { sid: readU64(key, 1), windowStartMs: readInt64(key, 9), writer: readU64(key, 17), seq: readU64(key, 25) };
}

/** The window of a chunk key, without decoding the rest of it. */
export function chunkKeyWindowStartMs(key: Uint8Array): number {
  expectNamespace(key, NS_CHUNK, 'chunk');
  need(key, 17, 'chunk');
  return readInt64(key, 9);
}

/** `C` sid: every chunk of one series. */
export function chunkSeriesPrefix(sid: bigint): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = NS_CHUNK;
  writeU64(k, 1, sid);
  return k;
}

/** `C` sid window: every chunk of one series in one window. */
export function chunkWindowPrefix(sid: bigint, windowStartMs: number): Uint8Array {
  const k = new Uint8Array(17);
  k[0] = NS_CHUNK;
  writeU64(k, 1, sid);
  writeInt64(k, 9, windowStartMs);
  return k;
}

/** Scan bounds covering every chunk of `sid` whose window may hold samples in [startMs, endMs]. */
export function chunkScanRange(sid: bigint, startMs: number, endMs: number): { start: Uint8Array; end: Uint8Array } {
  return {
    start: chunkWindowPrefix(sid, windowStartOfMs(startMs)),
    end: prefixEnd(chunkWindowPrefix(sid, windowStartOfMs(endMs))),
  };
}

// --- Chunk value: header + encoded samples ----------------------------------------------------

export { CHUNK_ENCODING_BLOCK, CHUNK_ENCODING_XOR } from '../chunk/stored.js';
export const CHUNK_FLAG_CLOSED = 0x01;
export const CHUNK_HEADER_BYTES = 2 + 8 + 8;

export interface ChunkHeader {
  readonly encoding: number;
  /** The writer will never change this chunk again (safe to cache). */
  readonly closed: boolean;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}

export function encodeChunkValue(header: ChunkHeader, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_HEADER_BYTES + data.length);
  writeChunkHeader(out, 0, header);
  out.set(data, CHUNK_HEADER_BYTES);
  return out;
}

/** Writes the CHUNK_HEADER_BYTES of a chunk value at `offset`. */
export function writeChunkHeader(into: Uint8Array, offset: number, header: ChunkHeader): void {
  into[offset] = header.encoding;
  into[offset + 1] = header.closed ? CHUNK_FLAG_CLOSED : 0;
  writeInt64(into, offset + 2, header.minTimeMs);
  writeInt64(into, offset + 10, header.maxTimeMs);
}

export function decodeChunkHeader(value: Uint8Array): ChunkHeader {
  if (value.length < CHUNK_HEADER_BYTES) throw new MetricstorError('internal', 'chunk value shorter than its header');
  return {
    encoding: value[0]!,
    closed: (value[1]! & CHUNK_FLAG_CLOSED) !== 0,
    minTimeMs: readInt64(value, 2),
    maxTimeMs: readInt64(value, 10),
  };
}

/** The encoded samples after the header (a view, not a copy). */
export function chunkValueData(value: Uint8Array): Uint8Array {
  return value.subarray(CHUNK_HEADER_BYTES);
}

// --- M metric-family → metadata ----------------------------------------------------------------

export function metadataKey(metricFamilyName: string): Uint8Array {
  return concat(Uint8Array.of(NS_METADATA), utf8Encoder.encode(metricFamilyName));
}

export function metadataPrefix(): Uint8Array {
  return Uint8Array.of(NS_METADATA);
}

export function decodeMetadataKey(key: Uint8Array): string {
  expectNamespace(key, NS_METADATA, 'metadata');
  return utf8Decoder.decode(key.subarray(1));
}

// --- W writer seq → one request's samples ------------------------------------------------------

export function walKey(writer: bigint, seq: bigint): Uint8Array {
  const k = new Uint8Array(17);
  k[0] = NS_WAL;
  writeU64(k, 1, writer);
  writeU64(k, 9, seq);
  return k;
}

export function walWriterPrefix(writer: bigint): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = NS_WAL;
  writeU64(k, 1, writer);
  return k;
}

export function walPrefix(): Uint8Array {
  return Uint8Array.of(NS_WAL);
}

export function decodeWalKey(key: Uint8Array): { writer: bigint; seq: bigint } {
  expectNamespace(key, NS_WAL, 'write-ahead');
  if (key.length !== 17) throw new MetricstorError('internal', 'write-ahead key has a bad length');
  return { writer: readU64(key, 1), seq: readU64(key, 9) };
}

// --- L name → lease record (see maintenance/lease.ts for the record) ---------------------------

/** Lease name under which a writer guards its write-ahead records. */
export function writerLeaseName(writer: bigint): string {
  return `writer/${writerHex(writer)}`;
}

export const WRITER_LEASE_PREFIX = 'writer/';

export function writerHex(writer: bigint): string {
  return writer.toString(16).padStart(16, '0');
}

export function parseWriterHex(hex: string): bigint | null {
  return /^[0-9a-f]{16}$/.test(hex) ? BigInt(`0x${hex}`) : null;
}

export const MAX_INCARNATION = 2 ** 24 - 1;
export const MAX_SEQ_COUNTER = 2 ** 40 - 1;

/** Builds a chunk or write-ahead sequence number: 24 bits of incarnation, 40 bits of counter. */
export function makeSeq(incarnation: number, counter: number): bigint {
  if (!(incarnation >= 0 && incarnation <= MAX_INCARNATION && Number.isInteger(incarnation))) {
    throw new MetricstorError('internal', `writer incarnation ${incarnation} out of range`);
  }
  if (!(counter >= 0 && counter <= MAX_SEQ_COUNTER && Number.isInteger(counter))) {
    throw new MetricstorError('internal', `sequence counter ${counter} out of range`);
  }
  return (BigInt(incarnation) << 40n) | BigInt(counter);
}

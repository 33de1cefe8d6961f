import type { BlockSpan, InflatedBlock } from '../chunk/block.js';
import { blockSpan, blockWithTail, decodeBlockSpanInto, inflateBlock, tailHolds } from '../chunk/block.js';
import { chunkNumSamples, decodeXorInto } from '../chunk/index.js';
import { wordsOf } from '../model/float-words.js';
import type { KvEntry, KvStore } from '../kv/kv.js';
import type { SelectParams, SeriesData } from './types.js';
import type { CachedChunk, DecodedChunk } from './chunk-cache.js';
import { ChunkCache, cachedBytes, isInflatedBlock } from './chunk-cache.js';
import { decodeStoredChunk } from './chunk-decode.js';
import type { Head } from './head.js';
import type { ChunkListing, ListedChunk } from './chunk-listing.js';
import type { ChunkHeader } from './keys.js';
import {
  CHUNK_ENCODING_BLOCK,
  CHUNK_ENCODING_XOR,
  chunkScanRange,
  chunkValueData,
  decodeChunkHeader,
  chunkKeyWindowStartMs,
  windowStartOfMs,
} from './keys.js';
import { entriesInRanges } from './kv-scan.js';
import type { SampleRun } from './merge.js';
import { clip, mergeRuns } from './merge.js';
import type { SeriesIndex } from './series-index.js';

/** Series whose chunk ranges are read by one KV call (scanMany). */
const SERIES_PER_READ = 256;
/**
 * Share of the chunk cache one select may fill. A select reading more than that (a long range
 * over many series) would only push out what smaller, repeated queries use, and pay for copies
 * nobody reads again.
 */
const CACHE_SHARE_PER_SELECT = 0.5;

export interface QuerierDeps {
  readonly kv: KvStore;
  readonly index: SeriesIndex;
  readonly head: Head;
  readonly cache: ChunkCache;
}

/** What one select may still add to the chunk cache. */
export interface CacheAdmission {
  bytesLeft: number;
}

/**
 * Every series matching the selector with its samples in [startMs, endMs]: postings of the days
 * in range → ids → labels → the chunk ranges of many series in one KV call, merged with this node's
 * chunks in memory.
 * Series without samples in range are left out.
 */
export async function selectSeries(deps: QuerierDeps, params: SelectParams): Promise<SeriesData[]> {
  const { startMs, endMs } = params;
  if (!(startMs <= endMs)) return [];
  const selected = await deps.index.select(params.matchers, startMs, endMs);
  const admission: CacheAdmission = { bytesLeft: deps.cache.maxBytes * CACHE_SHARE_PER_SELECT };
  const refs: ChunkRef[][] = [];
  for (let from = 0; from < selected.length; from += SERIES_PER_READ) {
    const sids = selected.slice(from, from + SERIES_PER_READ).map((s) => s.sid);
    for (const r of await chunkRefs(deps, sids, startMs, endMs, admission)) refs.push(r);
  }
  const runs = assemble(deps.cache, refs, startMs, endMs, admission);
  const out: SeriesData[] = [];
  selected.forEach((s, i) => {
    const run = runs[i]!;
    if (run.timestamps.length > 0) out.push({ labels: s.labels, timestamps: run.timestamps, values: run.values });
  });
  return out;
}

/**
 * A chunk of one series that overlaps the range: decoded already, XOR bytes to decode, or an
 * inflated block with the positions of its samples in range.
 */
interface ChunkRef {
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly xor: Uint8Array | null;
  readonly decoded: DecodedChunk | null;
  readonly block: SpanOfBlock | null;
  /** Cache key of a closed chunk that is not cached yet; null when it must not be cached. */
  readonly cacheKey: string | null;
}

function containsKey(keys: readonly Uint8Array[], key: Uint8Array): boolean {
  for (const k of keys) {
    if (k.length !== key.length) continue;
    // chunk keys of one series differ at the end (window, writer, seq), so compare from there
    let i = k.length - 1;
    while (i >= 0 && k[i] === key[i]) i--;
    if (i < 0) return true;
  }
  return false;
}

/** The in-memory chunks of a series that overlap the range, and the keys of all its chunks in memory. */
function headChunks(deps: QuerierDeps, sid: bigint, startMs: number, endMs: number): { refs: ChunkRef[]; keys: Uint8Array[] | null } {
  const refs: ChunkRef[] = [];
  const sh = deps.head.get(sid);
  if (sh === undefined || sh.chunks.length === 0) return { refs, keys: null };
  const keys: Uint8Array[] = [];
  for (const c of sh.chunks) {
    keys.push(deps.head.readKey(c));
    if (c.numSamples > 0 && c.lastT >= startMs && c.firstT <= endMs) {
      refs.push({ minTimeMs: c.firstT, maxTimeMs: c.lastT, xor: c.appender.bytes(), decoded: null, block: null, cacheKey: null });
    }
  }
  return { refs, keys };
}

/**
 * The chunks of each series that overlap [startMs, endMs]: this node's in memory, then the KV's.
 * A series whose chunk list was read at the KV's current write generation, for windows that cover
 * this read's, and whose closed chunks are all in the cache, is answered from there without a KV
 * read: with the generation unchanged no chunk can have been written, rewritten or deleted since.
 */
async function chunkRefs(deps: QuerierDeps, sids: readonly bigint[], startMs: number, endMs: number, admission: CacheAdmission): Promise<ChunkRef[][]> {
  // Memory first: a chunk that leaves the head after this point is already in the KV (and the
  // write that put it there has changed the generation read below).
  const heads = sids.map((sid) => headChunks(deps, sid, startMs, endMs));
  const listings = deps.cache.listings;
  const generation = listings === null ? undefined : deps.kv.writeGeneration?.();
  const fromWindowMs = windowStartOfMs(startMs);
  const toWindowMs = windowStartOfMs(endMs);
  const out = new Array<ChunkRef[]>(sids.length);
  const unread: number[] = [];
  for (let s = 0; s < sids.length; s++) {
    const listing = generation === undefined ? undefined : listings!.get(sids[s]!, generation, fromWindowMs, toWindowMs);
    const refs = listing === undefined ? null : listedRefs(deps.cache, listing, heads[s]!, startMs, endMs, fromWindowMs, toWindowMs, admission);
    if (refs === null) unread.push(s);
    else out[s] = sorted(refs);
  }
  if (unread.length === 0) return out;
  const stored = await entriesInRanges(
    deps.kv,
    unread.map((s) => chunkScanRange(sids[s]!, startMs, endMs)),
  );
  unread.forEach((s, i) => {
    const head = heads[s]!;
    const refs = head.refs;
    const listed: ListedChunk[] | null = generation === undefined ? null : [];
    for (const e of stored[i]!) {
      const header = decodeChunkHeader(e.value);
      const cacheKey = header.closed || listed !== null ? ChunkCache.keyOf(e.key) : null;
      if (listed !== null) listed.push({
          cacheKey: cacheKey!,
          windowStartMs: chunkKeyWindowStartMs(e.key),
          minTimeMs: header.minTimeMs,
          maxTimeMs: header.maxTimeMs,
          closed: header.closed,
        });
      if (head.keys !== null && containsKey(head.keys, e.key)) continue;
      addStored(deps.cache, refs, e, header, header.closed ? cacheKey : null, startMs, endMs, admission);
    }
    if (listed !== null) listings!.set(sids[s]!, { generation: generation!, fromWindowMs, toWindowMs, chunks: listed });
    out[s] = sorted(refs);
  });
  return out;
}

function sorted(refs: ChunkRef[]): ChunkRef[] {
  if (refs.length > 1) refs.sort((a, b) => a.minTimeMs - b.minTimeMs);
  return refs;
}

/**
 * The refs of a listed series' stored chunks that overlap the range and are not in memory, all
 * from the cache; null when one of them is open or not cached (the caller reads the KV).
 */
function listedRefs(
  cache: ChunkCache,
  listing: ChunkListing,
  head: { refs: ChunkRef[]; keys: Uint8Array[] | null },
  startMs: number,
  endMs: number,
  fromWindowMs: number,
  toWindowMs: number,
  admission: CacheAdmission,
): ChunkRef[] | null {
  let inMemory: Set<string> | null = null;
  const refs: ChunkRef[] = [];
  for (const c of listing.chunks) {
    if (c.windowStartMs < fromWindowMs || c.windowStartMs > toWindowMs) continue;
    if (c.maxTimeMs < startMs || c.minTimeMs > endMs) continue;
    if (head.keys !== null) {
      inMemory ??= new Set(head.keys.map((k) => ChunkCache.keyOf(k)));
      if (inMemory.has(c.cacheKey)) continue;
    }
    if (!c.closed) return null;
    const cached = cache.get(c.cacheKey);
    if (cached === undefined) return null;
    if (isInflatedBlock(cached)) refs.push(inflatedRef(cache, admission, c.cacheKey, c.minTimeMs, c.maxTimeMs, cached, startMs, endMs));
    else refs.push({ minTimeMs: c.minTimeMs, maxTimeMs: c.maxTimeMs, xor: null, decoded: cached, block: null, cacheKey: null });
  }
  for (const r of head.refs) refs.push(r);
  return refs;
}

/**
 * Adds a stored chunk to refs if it overlaps the range: from the cache when closed (cacheKey set)
 * and cached there.
 */
function addStored(
  cache: ChunkCache,
  refs: ChunkRef[],
  e: KvEntry,
  header: ChunkHeader,
  cacheKey: string | null,
  startMs: number,
  endMs: number,
  admission: CacheAdmission,
): void {
  if (header.maxTimeMs < startMs || header.minTimeMs > endMs) return;
  const { minTimeMs, maxTimeMs } = header;
  if (cacheKey !== null) {
    const cached = cache.get(cacheKey);
    if (cached !== undefined) {
      if (isInflatedBlock(cached)) refs.push(inflatedRef(cache, admission, cacheKey, minTimeMs, maxTimeMs, cached, startMs, endMs));
      else refs.push({ minTimeMs, maxTimeMs, xor: null, decoded: cached, block: null, cacheKey: null });
      return;
    }
  }
  if (header.encoding === CHUNK_ENCODING_XOR) {
    refs.push({ minTimeMs, maxTimeMs, xor: chunkValueData(e.value), decoded: null, block: null, cacheKey });
    return;
  }
  if (header.encoding === CHUNK_ENCODING_BLOCK) {
    const inflated = inflateBlock(chunkValueData(e.value));
    if (cacheKey === null) {
      refs.push(blockRef(minTimeMs, maxTimeMs, inflated, startMs, endMs));
      return;
    }
    // with its tail from the start when this read wants it, so that the cache takes it once
    const block = tailHolds(inflated, startMs) ? blockWithTail(inflated) : inflated;
    admit(cache, admission, cacheKey, block);
    refs.push(inflatedRef(cache, admission, cacheKey, minTimeMs, maxTimeMs, block, startMs, endMs));
    return;
  }
  const decoded = withWords(decodeStoredChunk(header.encoding, chunkValueData(e.value)));
  if (cacheKey !== null) admit(cache, admission, cacheKey, decoded);
  refs.push({ minTimeMs, maxTimeMs, xor: null, decoded, block: null, cacheKey: null });
}

/** An inflated block and the positions of its samples within a select's range. */
interface SpanOfBlock {
  readonly inflated: InflatedBlock;
  readonly span: BlockSpan;
}

function blockRef(minTimeMs: number, maxTimeMs: number, inflated: InflatedBlock, startMs: number, endMs: number): ChunkRef {
  const block: SpanOfBlock = { inflated, span: blockSpan(inflated, startMs, endMs) };
  return { minTimeMs, maxTimeMs, xor: null, decoded: null, block, cacheKey: null };
}

/**
 * A cached block read from startMs on: its decoded tail when that holds every sample from there
 * (made and cached again on first use), else the span to decode.
 */
function inflatedRef(
  cache: ChunkCache,
  admission: CacheAdmission,
  cacheKey: string,
  minTimeMs: number,
  maxTimeMs: number,
  inflated: InflatedBlock,
  startMs: number,
  endMs: number,
): ChunkRef {
  if (!tailHolds(inflated, startMs)) return blockRef(minTimeMs, maxTimeMs, inflated, startMs, endMs);
  let withTail = inflated;
  if (inflated.tail === null) {
    withTail = blockWithTail(inflated);
    admit(cache, admission, cacheKey, withTail);
  }
  return { minTimeMs, maxTimeMs, xor: null, decoded: withTail.tail, block: null, cacheKey: null };
}

/** First index of sorted `t` in [from, to) with t >= x. */
function lowerBound(t: Float64Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index of sorted `t` in [from, to) with t > x. */
function upperBound(t: Float64Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many of sorted `t` lie within [startMs, endMs]. */
function samplesWithin(t: Float64Array, startMs: number, endMs: number): number {
  const lo = lowerBound(t, 0, t.length, startMs);
  return upperBound(t, lo, t.length, endMs) - lo;
}

/** A decoded chunk with the word view of its values. */
function withWords(run: SampleRun): DecodedChunk {
  return { timestamps: run.timestamps, values: run.values, words: wordsOf(run.values) };
}

/** Caches a chunk the caller will not change, while this select may still add to the cache. */
function admit(cache: ChunkCache, admission: CacheAdmission, key: string, chunk: CachedChunk): void {
  if (admission.bytesLeft <= 0) return;
  admission.bytesLeft -= cachedBytes(chunk);
  cache.set(key, chunk);
}

/** A copy of samples [at, at + n) of the arrays, for the cache. */
function copyOut(timestamps: Float64Array, words: Uint32Array, at: number, n: number): DecodedChunk {
  const values = new Float64Array(n);
  const valueWords = wordsOf(values);
  valueWords.set(words.subarray(2 * at, 2 * (at + n)));
  return { timestamps: timestamps.slice(at, at + n), values, words: valueWords };
}

/** Below this many samples a loop copies faster than set() on fresh subarray views. */
const LOOP_COPY_SAMPLES = 64;

/** Copies the samples of `from` within [startMs, endMs] to slot n on; returns the new end. */
function copyInto(from: DecodedChunk, startMs: number, endMs: number, timestamps: Float64Array, words: Uint32Array, n: number): number {
  const t = from.timestamps;
  const lo = lowerBound(t, 0, t.length, startMs);
  const hi = upperBound(t, lo, t.length, endMs);
  if (hi - lo < LOOP_COPY_SAMPLES) {
    const w = from.words;
    for (let i = lo, j = n; i < hi; i++, j++) {
      timestamps[j] = t[i]!;
      words[2 * j] = w[2 * i]!;
      words[2 * j + 1] = w[2 * i + 1]!;
    }
  } else {
    timestamps.set(t.subarray(lo, hi), n);
    words.set(from.words.subarray(2 * lo, 2 * hi), 2 * n);
  }
  return n + hi - lo;
}

/** True when each chunk (sorted by start) begins after the previous one ends. */
function disjoint(refs: readonly ChunkRef[]): boolean {
  for (let i = 1; i < refs.length; i++) if (!(refs[i]!.minTimeMs > refs[i - 1]!.maxTimeMs)) return false;
  return true;
}

/**
 * The samples within [startMs, endMs] of each series' chunks, one run per series. Series whose
 * chunks follow each other (the usual case: one writer) are decoded straight into two arrays
 * shared by the whole select, each run a view of its own stretch; series with overlapping chunks
 * are decoded chunk by chunk and merged by the rules of merge.ts. No run is a view of a cached
 * chunk.
 */
function assemble(
  cache: ChunkCache,
  perSeries: readonly ChunkRef[][],
  startMs: number,
  endMs: number,
  admission: CacheAdmission,
): SampleRun[] {
  const runs: SampleRun[] = new Array<SampleRun>(perSeries.length);
  // Room for the samples in range of each decoded chunk and for every XOR chunk whole: each is
  // decoded whole at the end of what is kept so far, then clipped.
  let capacity = 0;
  for (let s = 0; s < perSeries.length; s++) {
    const refs = perSeries[s]!;
    if (!disjoint(refs)) {
      runs[s] = mergeRuns(refs.map((r) => clip(decodedRun(cache, r, admission), startMs, endMs)));
      continue;
    }
    for (const r of refs) capacity += capacityFor(r, startMs, endMs);
  }
  const timestamps = new Float64Array(capacity);
  const values = new Float64Array(capacity);
  const words = wordsOf(values);
  /** Series s keeps [ends[s], ends[s + 1]). */
  const ends = new Float64Array(perSeries.length + 1);
  let n = 0;
  for (let s = 0; s < perSeries.length; s++) {
    ends[s] = n;
    if (runs[s] !== undefined) continue;
    for (const r of perSeries[s]!) {
      if (r.decoded !== null) {
        n = copyInto(r.decoded, startMs, endMs, timestamps, words, n);
        continue;
      }
      if (r.block !== null) {
        n += decodeBlockSpanInto(r.block.inflated, r.block.span, timestamps, words, n);
        continue;
      }
      const k = decodeXorInto(r.xor!, timestamps, words, n);
      if (r.cacheKey !== null && admission.bytesLeft > 0) admit(cache, admission, r.cacheKey, copyOut(timestamps, words, n, k));
      const lo = lowerBound(timestamps, n, n + k, startMs);
      const hi = upperBound(timestamps, lo, n + k, endMs);
      if (lo > n) {
        timestamps.copyWithin(n, lo, hi);
        words.copyWithin(2 * n, 2 * lo, 2 * hi);
      }
      n += hi - lo;
    }
  }
  ends[perSeries.length] = n;
  // Short windows of long chunks (instant queries) keep only what they need.
  const keptTimestamps = n < capacity / 2 ? timestamps.slice(0, n) : timestamps;
  const keptValues = n < capacity / 2 ? values.slice(0, n) : values;
  for (let s = 0; s < perSeries.length; s++) {
    if (runs[s] !== undefined) continue;
    const from = ends[s]!;
    const to = ends[s + 1]!;
    runs[s] = { timestamps: keptTimestamps.subarray(from, to), values: keptValues.subarray(from, to) };
  }
  return runs;
}

/** Room a chunk needs in the shared arrays: its samples in range, or every sample of an XOR chunk. */
function capacityFor(r: ChunkRef, startMs: number, endMs: number): number {
  if (r.decoded !== null) return samplesWithin(r.decoded.timestamps, startMs, endMs);
  if (r.block !== null) return r.block.span.hi - r.block.span.lo;
  return chunkNumSamples(r.xor!);
}

/**
 * The chunk as its own arrays (decoded ones as they are: merging copies them); a block gives only
 * its samples in range.
 */
function decodedRun(cache: ChunkCache, r: ChunkRef, admission: CacheAdmission): SampleRun {
  if (r.decoded !== null) return r.decoded;
  if (r.block !== null) {
    const n = r.block.span.hi - r.block.span.lo;
    const values = new Float64Array(n);
    const timestamps = new Float64Array(n);
    decodeBlockSpanInto(r.block.inflated, r.block.span, timestamps, wordsOf(values), 0);
    return { timestamps, values };
  }
  const decoded = withWords(decodeStoredChunk(CHUNK_ENCODING_XOR, r.xor!));
  if (r.cacheKey !== null) admit(cache, admission, r.cacheKey, decoded);
  return decoded;
}

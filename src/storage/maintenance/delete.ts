import { chunkNumSamples } from '../../chunk/index.js';
import { badData } from '../../errors.js';
import type { KvOp, KvStore } from '../../kv/kv.js';
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import {
  DAY_MS,
  chunkKey,
  chunkScanRange,
  chunkValueData,
  chunkWindowPrefix,
  dayOfMs,
  labelNameKey,
  labelValueKey,
  postingKey,
  postingsNamePrefix,
  postingsPrefix,
  seriesKey,
} from '../keys.js';
import { prefixEnd, toHex } from '../../kv/bytes.js';
import { decodeChunkSamples, encodeChunkSamples } from './chunk-values.js';
import type { SampleRun } from '../merge.js';
import { DEFAULT_PAGE_SIZE, OpBatcher, firstKey } from './paging.js';
import { MAINTENANCE_WRITER, hasAnyChunk, rewriteGeneration, rewriteSeq, windowGroups } from './series-walk.js';

/** What deletion needs from the series index: matcher resolution and the days that hold data. */
export interface SeriesResolver {
  select(matchers: readonly Matcher[], startMs: number, endMs: number): Promise<readonly { sid: bigint; labels: Labels }[]>;
  daysWithData(startMs: number, endMs: number): Promise<number[]>;
}

export interface DeleteRequest {
  /** A series is deleted when it matches every matcher of at least one set. */
  readonly matcherSets: readonly (readonly Matcher[])[];
  /** Inclusive bounds of the samples to delete. */
  readonly startMs: number;
  readonly endMs: number;
}

export interface DeleteOptions {
  readonly nowMs: number;
  /** Index keys of days that ended less than this long ago are kept (default one hour). */
  readonly indexGraceMs?: number;
  /** Entries per scan and operations per batch. */
  readonly pageSize?: number;
}

export interface DeleteSummary {
  readonly seriesMatched: number;
  readonly samplesDeleted: number;
  readonly chunksDeleted: number;
  readonly chunksRewritten: number;
  readonly postingsDeleted: number;
  readonly labelValuesDeleted: number;
  readonly labelNamesDeleted: number;
  readonly seriesDeleted: number;
}

/** Timestamps beyond what a Date can hold are clamped (the API's "no bound" values are larger). */
const MAX_MS = 8.64e15;
const DEFAULT_INDEX_GRACE_MS = 3_600_000;

/**
 * Deletes the samples in [startMs, endMs] of every series matching the request, as
 * admin/tsdb/delete_series asks. Chunks inside the range are deleted;
 * chunks that straddle a bound are replaced by chunks of the samples outside the range. Then, per day
 * that ended over `indexGraceMs` ago and has no chunk of the series left, the series' postings
 * go, with the V and N keys no other series of that day still needs; and a series with no chunk
 * and no posting left loses its S key. Operations are gathered into batches of about a page. Every step deletes or shrinks what a
 * re-run would, so an interrupted request can simply be sent again.
 *
 * Samples still in a writer's memory (open chunks, buffered write-ahead records) are outside the
 * KV: the caller trims its own head; another node's head may write them again.
 */
export async function deleteSeriesData(
  kv: KvStore,
  resolver: SeriesResolver,
  request: DeleteRequest,
  options: DeleteOptions,
): Promise<DeleteSummary> {
  if (request.matcherSets.length === 0) throw badData('no match[] parameter provided');
  const startMs = Math.max(-MAX_MS, request.startMs);
  const endMs = Math.min(MAX_MS, request.endMs);
  if (startMs > endMs) throw badData('end timestamp must not be before start time');
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const summary = {
    seriesMatched: 0,
    samplesDeleted: 0,
    chunksDeleted: 0,
    chunksRewritten: 0,
    postingsDeleted: 0,
    labelValuesDeleted: 0,
    labelNamesDeleted: 0,
    seriesDeleted: 0,
  };

  const series = new Map<bigint, Labels>();
  for (const matchers of request.matcherSets) {
    for (const s of await resolver.select(matchers, startMs, endMs)) series.set(s.sid, s.labels);
  }
  summary.seriesMatched = series.size;
  const lastSettledDay = dayOfMs(options.nowMs - (options.indexGraceMs ?? DEFAULT_INDEX_GRACE_MS)) - 1;
  const days = (await resolver.daysWithData(startMs, endMs)).filter((d) => d <= lastSettledDay);
  const liveDays: number[] = [];
  for (let d = lastSettledDay + 1; d <= dayOfMs(options.nowMs) + 1; d++) liveDays.push(d);

  // Chunks first, for every series (batches gather several windows); then the index, which
  // looks at what chunks are left.
  const batch = new OpBatcher(kv, pageSize);
  for (const sid of series.keys()) {
    await deleteChunksInRange(kv, batch, sid, startMs, endMs, pageSize, options.nowMs, summary);
  }
  await batch.flush();
  const dead: DeadDay[] = [];
  for (const [sid, labels] of series) dead.push(...(await deadDaysOf(kv, sid, labels, days)));
  await deletePostings(kv, dead, pageSize, summary);
  // Last, the S keys of series left with neither a chunk nor a posting.
  for (const [sid, labels] of series) {
    if (labels.length === 0 || (await hasAnyChunk(kv, sid))) continue;
    const first = labels[0]!;
    const left = await kv.getMany([...days, ...liveDays].map((d) => postingKey(d, first.name, first.value, sid)));
    if (left.some((v) => v !== null)) continue;
    await batch.del(seriesKey(sid));
    summary.seriesDeleted++;
  }
  await batch.flush();
  return summary;
}

type MutableSummary = { -readonly [K in keyof DeleteSummary]: DeleteSummary[K] };

/**
 * For each window with samples in range, one set of operations that commit together: chunks
 * wholly inside go, and chunks across a bound are replaced by chunks of their remaining samples
 * under new keys of the maintenance writer (a key is never rewritten with other samples, since
 * readers cache closed chunks by key).
 */
async function deleteChunksInRange(
  kv: KvStore,
  batch: OpBatcher,
  sid: bigint,
  startMs: number,
  endMs: number,
  pageSize: number,
  nowMs: number,
  summary: MutableSummary,
): Promise<void> {
  const range = chunkScanRange(sid, startMs, endMs);
  for await (const window of windowGroups(kv, { ...range, limit: pageSize })) {
    const ops: KvOp[] = [];
    let generation: bigint | null = null;
    let rewritten = 0;
    for (const c of window) {
      const { header } = c;
      if (header.maxTimeMs < startMs || header.minTimeMs > endMs) continue;
      if (header.minTimeMs >= startMs && header.maxTimeMs <= endMs) {
        summary.samplesDeleted += chunkNumSamples(chunkValueData(c.entry.value));
        summary.chunksDeleted++;
        ops.push({ type: 'del', key: c.entry.key });
        continue;
      }
      const run = decodeChunkSamples(c.entry.value);
      const kept = outside(run, startMs, endMs);
      const removed = run.timestamps.length - kept.timestamps.length;
      if (removed === 0) continue;
      summary.samplesDeleted += removed;
      ops.push({ type: 'del', key: c.entry.key });
      if (kept.timestamps.length === 0) {
        summary.chunksDeleted++;
        continue;
      }
      generation ??= rewriteGeneration(nowMs, window);
      const key = chunkKey(sid, c.key.windowStartMs, MAINTENANCE_WRITER, rewriteSeq(generation, rewritten++));
      ops.push({ type: 'put', key, value: encodeChunkSamples(kept, 0, kept.timestamps.length, true) });
      summary.chunksRewritten++;
    }
    if (ops.length > 0) await batch.addTogether(ops);
  }
}

/** The samples of a run outside [startMs, endMs]. */
function outside(run: SampleRun, startMs: number, endMs: number): SampleRun {
  let n = 0;
  const timestamps = new Float64Array(run.timestamps.length);
  const values = new Float64Array(run.timestamps.length);
  const from = new Uint32Array(run.values.buffer, run.values.byteOffset, run.values.length * 2);
  const to = new Uint32Array(values.buffer);
  for (let i = 0; i < run.timestamps.length; i++) {
    const t = run.timestamps[i]!;
    if (t >= startMs && t <= endMs) continue;
    timestamps[n] = t;
    to[2 * n] = from[2 * i]!;
    to[2 * n + 1] = from[2 * i + 1]!;
    n++;
  }
  return { timestamps: timestamps.slice(0, n), values: values.slice(0, n) };
}

/** One series' postings of one day, to be deleted because no chunk of that day is left. */
interface DeadDay {
  readonly sid: bigint;
  readonly day: number;
  readonly labels: Labels;
}

/** The days of `days` on which the series has postings but no chunk any more. */
async function deadDaysOf(kv: KvStore, sid: bigint, labels: Labels, days: readonly number[]): Promise<DeadDay[]> {
  if (labels.length === 0 || days.length === 0) return [];
  const first = labels[0]!;
  const present = await kv.getMany(days.map((d) => postingKey(d, first.name, first.value, sid)));
  const out: DeadDay[] = [];
  for (let i = 0; i < days.length; i++) {
    if (present[i] === null) continue;
    const day = days[i]!;
    const chunkLeft = await firstKey(kv, chunkWindowPrefix(sid, day * DAY_MS), chunkWindowPrefix(sid, (day + 1) * DAY_MS));
    if (chunkLeft === null) out.push({ sid, day, labels });
  }
  return out;
}

/**
 * Deletes the postings of dead days, gathered into batches of about `pageSize` postings, each
 * together with the V and N keys that no posting outside the batch still needs. Every batch is
 * atomic, so an interrupted run never leaves a posting without its V and N keys, nor the reverse.
 */
async function deletePostings(kv: KvStore, dead: readonly DeadDay[], pageSize: number, summary: MutableSummary): Promise<void> {
  for (let from = 0; from < dead.length; ) {
    let to = from;
    let postings = 0;
    while (to < dead.length && (to === from || postings + dead[to]!.labels.length <= pageSize)) postings += dead[to++]!.labels.length;
    await deletePostingsBatch(kv, dead.slice(from, to), summary);
    from = to;
  }
}

async function deletePostingsBatch(kv: KvStore, dead: readonly DeadDay[], summary: MutableSummary): Promise<void> {
  const ops: KvOp[] = [];
  const deleted = new Set<string>();
  /** Postings of this batch under each V and N key, with the prefix that holds them. */
  const values = new Map<string, { prefix: Uint8Array; key: Uint8Array; count: number }>();
  const names = new Map<string, { prefix: Uint8Array; key: Uint8Array; count: number }>();
  const tally = (map: typeof values, id: string, prefix: () => Uint8Array, key: () => Uint8Array): void => {
    const t = map.get(id);
    if (t === undefined) map.set(id, { prefix: prefix(), key: key(), count: 1 });
    else t.count++;
  };
  for (const { sid, day, labels } of dead) {
    for (const l of labels) {
      const own = postingKey(day, l.name, l.value, sid);
      ops.push({ type: 'del', key: own });
      deleted.add(toHex(own));
      const nameId = `${day}\u0000${l.name}`;
      tally(values, `${nameId}\u0000${l.value}`, () => postingsPrefix(day, l.name, l.value), () => labelValueKey(day, l.name, l.value));
      tally(names, nameId, () => postingsNamePrefix(day, l.name), () => labelNameKey(day, l.name));
    }
  }
  summary.postingsDeleted += ops.length;
  // A V or N key goes when its prefix holds no posting beyond this batch's: among the first
  // count + 1 keys under it, one would be another's if any existed.
  for (const [map, counter] of [[values, 'labelValuesDeleted'], [names, 'labelNamesDeleted']] as const) {
    for (const t of map.values()) {
      const page = await kv.scan({ start: t.prefix, end: prefixEnd(t.prefix), limit: t.count + 1 });
      if (!page.entries.every((e) => deleted.has(toHex(e.key)))) continue;
      ops.push({ type: 'del', key: t.key });
      summary[counter]++;
    }
  }
  await kv.batch(ops);
}

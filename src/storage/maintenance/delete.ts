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
import { prefixEnd, equalBytes } from '../../kv/bytes.js';
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
 * go, with the V and N keys no other series of that day still needs (one batch per day); and a
 * series with no chunk and no posting left loses its S key. Every step deletes or shrinks what a
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
  for (const [sid, labels] of series) {
    await cleanIndexDays(kv, sid, labels, days, summary);
    if (labels.length > 0 && !(await hasAnyChunk(kv, sid))) {
      const first = labels[0]!;
      const left = await kv.getMany([...days, ...liveDays].map((d) => postingKey(d, first.name, first.value, sid)));
      if (left.every((v) => v === null)) {
        await kv.batch([{ type: 'del', key: seriesKey(sid) }]);
        summary.seriesDeleted++;
      }
    }
  }
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

/**
 * For each day where the series has a posting but no chunk any more: one batch that deletes its
 * postings and the V and N keys whose only posting of that day was this series'.
 */
async function cleanIndexDays(
  kv: KvStore,
  sid: bigint,
  labels: Labels,
  days: readonly number[],
  summary: MutableSummary,
): Promise<void> {
  if (labels.length === 0 || days.length === 0) return;
  const first = labels[0]!;
  const present = await kv.getMany(days.map((d) => postingKey(d, first.name, first.value, sid)));
  for (let i = 0; i < days.length; i++) {
    if (present[i] === null) continue;
    const day = days[i]!;
    const chunkLeft = await firstKey(kv, chunkWindowPrefix(sid, day * DAY_MS), chunkWindowPrefix(sid, (day + 1) * DAY_MS));
    if (chunkLeft !== null) continue;
    const ops: { type: 'del'; key: Uint8Array }[] = [];
    for (const l of labels) {
      const own = postingKey(day, l.name, l.value, sid);
      ops.push({ type: 'del', key: own });
      summary.postingsDeleted++;
      if (await onlyKeyUnder(kv, postingsPrefix(day, l.name, l.value), own)) {
        ops.push({ type: 'del', key: labelValueKey(day, l.name, l.value) });
        summary.labelValuesDeleted++;
      }
      if (await onlyKeyUnder(kv, postingsNamePrefix(day, l.name), own)) {
        ops.push({ type: 'del', key: labelNameKey(day, l.name) });
        summary.labelNamesDeleted++;
      }
    }
    await kv.batch(ops);
  }
}

/** True when no key other than `own` starts with `prefix`. */
async function onlyKeyUnder(kv: KvStore, prefix: Uint8Array, own: Uint8Array): Promise<boolean> {
  const page = await kv.scan({ start: prefix, end: prefixEnd(prefix), limit: 2 });
  return page.entries.every((e) => equalBytes(e.key, own));
}

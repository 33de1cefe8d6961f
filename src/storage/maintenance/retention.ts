import { MetricstorError } from '../../errors.js';
import type { KvStore } from '../../kv/kv.js';
import {
  DAY_MS,
  NS_LABEL_NAME,
  NS_LABEL_VALUE,
  NS_POSTING,
  chunkWindowPrefix,
  dayOfMs,
  decodePostingKey,
  labelNamesPrefix,
  labelValuesDayPrefix,
  postingKey,
  postingsDayPrefix,
  seriesKey,
  windowStartOfMs,
} from '../keys.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { DEFAULT_PAGE_SIZE, OpBatcher, mapLimited, scanPages } from './paging.js';
import type { JobContext, MaintenanceJob } from './scheduler.js';
import { hasAnyChunk, seriesWithChunks } from './series-walk.js';

export const DEFAULT_RETENTION_MS = 15 * DAY_MS;

export interface RetentionPass {
  /** Data entirely older than this is deleted. */
  readonly cutoffMs: number;
  /** The current time; index keys of today and tomorrow count as live. */
  readonly nowMs: number;
  /** Entries per scan and operations per batch. */
  readonly pageSize?: number;
  /** Checked between pages; the pass stops early when it returns false. */
  readonly shouldContinue?: () => boolean;
}

export interface RetentionSummary {
  readonly cutoffMs: number;
  readonly chunksDeleted: number;
  readonly seriesDeleted: number;
  readonly postingsDeleted: number;
  readonly labelValuesDeleted: number;
  readonly labelNamesDeleted: number;
  /** False when the pass stopped early; the next pass carries on from what is left. */
  readonly complete: boolean;
}

const LIVENESS_CONCURRENCY = 16;

/**
 * Deletes what lies entirely before `cutoffMs`: chunks of windows that end by the cutoff, per-day
 * index keys (I, V, N) of days that end by it, and S keys of series that keep neither a chunk nor a
 * posting on a retained day. Every step is a deletion of keys that stay deleted, so a pass that is
 * interrupted can simply run again. Order matters for that: chunks go first, and the S key of a
 * series goes in the same batch as the expired postings that led to it, so a re-run still finds it.
 * `shouldContinue` is asked after each committed page, so every pass makes progress.
 */
export async function applyRetention(kv: KvStore, pass: RetentionPass): Promise<RetentionSummary> {
  const pageSize = pass.pageSize ?? DEFAULT_PAGE_SIZE;
  const keepGoing = pass.shouldContinue ?? (() => true);
  const cutoffWindowMs = windowStartOfMs(pass.cutoffMs);
  const cutoffDay = dayOfMs(pass.cutoffMs);
  const lastLiveDay = dayOfMs(pass.nowMs) + 1;
  const summary = {
    cutoffMs: pass.cutoffMs,
    chunksDeleted: 0,
    seriesDeleted: 0,
    postingsDeleted: 0,
    labelValuesDeleted: 0,
    labelNamesDeleted: 0,
    complete: false,
  };
  const batch = new OpBatcher(kv, pageSize);

  // 1. Chunks of windows [.., cutoffWindow): every such window ends at or before the cutoff.
  // Deletions of many series share a batch; the lease is asked after each batch commits.
  let checkedAtOps = 0;
  for await (const first of seriesWithChunks(kv)) {
    if (first.windowStartMs >= cutoffWindowMs) continue;
    const range = { start: chunkWindowPrefix(first.sid, first.windowStartMs), end: chunkWindowPrefix(first.sid, cutoffWindowMs), limit: pageSize };
    for await (const page of scanPages(kv, range)) {
      for (const e of page) await batch.del(e.key);
      summary.chunksDeleted += page.length;
      if (batch.committedOps === checkedAtOps) continue;
      checkedAtOps = batch.committedOps;
      if (!keepGoing()) {
        await batch.flush();
        return summary;
      }
    }
  }
  await batch.flush();

  // 2. Postings of expired days, and the S keys of series they show to be dead.
  const checked = new Set<bigint>();
  const postings = { start: Uint8Array.of(NS_POSTING), end: postingsDayPrefix(cutoffDay), limit: pageSize };
  for await (const page of scanPages(kv, postings)) {
    const fresh = new Map<bigint, { name: string; value: string }>();
    for (const e of page) {
      const p = decodePostingKey(e.key);
      if (!checked.has(p.sid) && !fresh.has(p.sid)) fresh.set(p.sid, { name: p.name, value: p.value });
    }
    const candidates = [...fresh];
    const alive = await mapLimited(candidates, LIVENESS_CONCURRENCY, ([sid, label]) =>
      seriesIsLive(kv, sid, label, cutoffDay, lastLiveDay),
    );
    for (let i = 0; i < candidates.length; i++) {
      const sid = candidates[i]![0];
      checked.add(sid);
      if (alive[i]) continue;
      await batch.del(seriesKey(sid));
      summary.seriesDeleted++;
    }
    for (const e of page) await batch.del(e.key);
    summary.postingsDeleted += page.length;
    await batch.flush();
    if (!keepGoing()) return summary;
  }

  // 3. Label values and names of expired days.
  const families = [
    { start: Uint8Array.of(NS_LABEL_VALUE), end: labelValuesDayPrefix(cutoffDay), counter: 'labelValuesDeleted' as const },
    { start: Uint8Array.of(NS_LABEL_NAME), end: labelNamesPrefix(cutoffDay), counter: 'labelNamesDeleted' as const },
  ];
  for (const family of families) {
    for await (const page of scanPages(kv, { start: family.start, end: family.end, limit: pageSize })) {
      for (const e of page) await batch.del(e.key);
      summary[family.counter] += page.length;
      await batch.flush();
      if (!keepGoing()) return summary;
    }
  }
  summary.complete = true;
  return summary;
}

/**
 * A series is live when it still has a chunk, or a posting on a retained day (its samples may
 * still be in write-ahead records or in a writer's memory). One label of the series is enough to
 * build its posting keys.
 */
async function seriesIsLive(
  kv: KvStore,
  sid: bigint,
  label: { name: string; value: string },
  firstLiveDay: number,
  lastLiveDay: number,
): Promise<boolean> {
  if (await hasAnyChunk(kv, sid)) return true;
  const keys: Uint8Array[] = [];
  for (let day = firstLiveDay; day <= lastLiveDay; day++) keys.push(postingKey(day, label.name, label.value, sid));
  const found = await kv.getMany(keys);
  return found.some((v) => v !== null);
}

export interface RetentionJobOptions {
  readonly kv: KvStore;
  /** Default 15 days. */
  readonly retentionMs?: number;
  /** Default one hour. */
  readonly intervalMs?: number;
  readonly pageSize?: number;
  readonly clock?: Clock;
}

/** Retention as a scheduled job, run only by the holder of the "retention" lease. */
export class RetentionJob implements MaintenanceJob {
  readonly name = 'retention';
  readonly intervalMs: number;
  private readonly options: RetentionJobOptions;
  private readonly clock: Clock;

  constructor(options: RetentionJobOptions) {
    const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    // A zero or negative period would delete everything; turning retention off means no job.
    if (!(retentionMs > 0)) throw new MetricstorError('bad_data', `retention must be positive, got ${retentionMs} ms`);
    this.options = options;
    this.intervalMs = options.intervalMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
  }

  run(ctx: JobContext): Promise<RetentionSummary> {
    const nowMs = this.clock.nowMs();
    return applyRetention(this.options.kv, {
      cutoffMs: nowMs - (this.options.retentionMs ?? DEFAULT_RETENTION_MS),
      nowMs,
      ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
      shouldContinue: () => ctx.shouldContinue(),
    });
  }
}

import { errorMessage } from '../../errors.js';
import type { KvOp, KvStore } from '../../kv/kv.js';
import { CHUNK_ENCODING_BLOCK, WINDOW_MS, chunkKey, chunkWindowPrefix, windowStartOfMs, writerLeaseName } from '../keys.js';
import { mergeRuns } from '../merge.js';
import { decodeChunkSamples, encodeBlocks } from './chunk-values.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { leaseExpired, readLease } from './lease.js';
import { DEFAULT_PAGE_SIZE } from './paging.js';
import type { JobContext, MaintenanceJob } from './scheduler.js';
import type { StoredChunk } from './series-walk.js';
import { MAINTENANCE_WRITER, rewriteGeneration, rewriteSeq, seriesWithChunks, windowGroups } from './series-walk.js';

/** Compaction writes its chunks under the writer id reserved for maintenance. */
export const COMPACTION_WRITER = MAINTENANCE_WRITER;
export const DEFAULT_COMPACTION_GRACE_MS = 3_600_000;

export interface CompactionPass {
  readonly nowMs: number;
  /** A window is closed once it ended at least this long ago (default one hour). */
  readonly graceMs?: number;
  /** Only windows starting at or after this (default: every window). */
  readonly fromMs?: number;
  /**
   * Only windows starting before this; overrides the grace period. For a caller that has just
   * closed every open chunk of its own and wants every window compacted now.
   */
  readonly closedBeforeMs?: number;
  /**
   * Entries per scan, and operations per batch: the batches of several windows are committed
   * together up to this many operations (a window's own operations are never split).
   */
  readonly pageSize?: number;
  /** Asked after each batch committed; the pass stops early when it returns false. */
  readonly shouldContinue?: () => boolean;
}

export interface CompactionSummary {
  /** Windows before this start were examined (all closed ones when the pass completes). */
  readonly closedBeforeMs: number;
  readonly windowsExamined: number;
  readonly windowsCompacted: number;
  /** Windows left alone because a live writer may still rewrite one of their chunks. */
  readonly windowsWithOpenChunks: number;
  /** Start of the earliest window left alone for that reason; a later pass should look again. */
  readonly retryFromMs: number | null;
  /** Windows left alone because a chunk could not be decoded (the first error is kept). */
  readonly windowsCorrupt: number;
  readonly firstCorruptError: string | null;
  readonly chunksRead: number;
  readonly chunksWritten: number;
  readonly chunksDeleted: number;
  readonly complete: boolean;
}

/**
 * Rewrites the chunks of every closed window that is not compacted yet (XOR chunks of any writer,
 * several writers, out-of-order fragments, overlaps, duplicates) into one compacted block
 * (src/chunk/block.ts) under writer 0, deduplicated by the read rule (the read path's own merge),
 * so reads return the same samples before and after, from about a third of the bytes. A window's new chunks and the deletion of its
 * old keys always share one atomic batch (windows are gathered into batches of about a page of
 * operations), so an interrupted pass leaves every window either old or new, and a re-run finds
 * the compacted windows already minimal. A window with an open chunk of a writer whose lease is
 * live is skipped: that writer may still rewrite the chunk under its key.
 */
export async function compactClosedWindows(kv: KvStore, pass: CompactionPass): Promise<CompactionSummary> {
  const pageSize = pass.pageSize ?? DEFAULT_PAGE_SIZE;
  const keepGoing = pass.shouldContinue ?? (() => true);
  const closedBeforeMs = pass.closedBeforeMs ?? windowStartOfMs(pass.nowMs - (pass.graceMs ?? DEFAULT_COMPACTION_GRACE_MS));
  const fromWindowMs = pass.fromMs === undefined ? Number.NEGATIVE_INFINITY : windowStartOfMs(pass.fromMs);
  const summary = {
    closedBeforeMs,
    windowsExamined: 0,
    windowsCompacted: 0,
    windowsWithOpenChunks: 0,
    retryFromMs: null as number | null,
    windowsCorrupt: 0,
    firstCorruptError: null as string | null,
    chunksRead: 0,
    chunksWritten: 0,
    chunksDeleted: 0,
    complete: false,
  };
  const writerLive = new Map<bigint, boolean>();
  const isWriterLive = async (writer: bigint): Promise<boolean> => {
    let live = writerLive.get(writer);
    if (live === undefined) {
      live = !leaseExpired(await readLease(kv, writerLeaseName(writer)), pass.nowMs);
      writerLive.set(writer, live);
    }
    return live;
  };

  let pending: KvOp[] = [];
  const commitPending = async (): Promise<void> => {
    if (pending.length === 0) return;
    const ops = pending;
    pending = [];
    await kv.batch(ops);
  };

  /** Compacts one window's chunks; false when the pass must stop. */
  const finishWindow = async (sid: bigint, group: StoredChunk[]): Promise<boolean> => {
    const windowStartMs = group[0]!.key.windowStartMs;
    summary.windowsExamined++;
    summary.chunksRead += group.length;
    for (const c of group) {
      if (!c.header.closed && c.key.writer !== COMPACTION_WRITER && (await isWriterLive(c.key.writer))) {
        summary.windowsWithOpenChunks++;
        summary.retryFromMs = Math.min(summary.retryFromMs ?? windowStartMs, windowStartMs);
        return true;
      }
    }
    let ops: KvOp[];
    try {
      if (alreadyMinimal(group)) return true;
      ops = compactionOps(sid, windowStartMs, group, pass.nowMs);
    } catch (err) {
      summary.windowsCorrupt++;
      summary.firstCorruptError ??= errorMessage(err);
      return true;
    }
    pending.push(...ops);
    summary.windowsCompacted++;
    for (const op of ops) {
      if (op.type === 'put') summary.chunksWritten++;
      else summary.chunksDeleted++;
    }
    if (pending.length < pageSize) return true;
    await commitPending();
    return keepGoing();
  };

  for await (const first of seriesWithChunks(kv)) {
    const startWindowMs = Math.max(first.windowStartMs, fromWindowMs);
    if (startWindowMs >= closedBeforeMs) continue;
    const range = {
      start: chunkWindowPrefix(first.sid, startWindowMs),
      end: chunkWindowPrefix(first.sid, closedBeforeMs),
      limit: pageSize,
    };
    for await (const window of windowGroups(kv, range)) {
      if (!(await finishWindow(first.sid, window))) return summary;
    }
  }
  await commitPending();
  summary.complete = true;
  return summary;
}

/**
 * True when the window is already compacted: compacted blocks only, disjoint in time (a window
 * needs several only beyond 65,535 samples).
 */
function alreadyMinimal(group: readonly StoredChunk[]): boolean {
  const byTime = [...group].sort((a, b) => a.header.minTimeMs - b.header.minTimeMs);
  for (let i = 0; i < byTime.length; i++) {
    const c = byTime[i]!;
    if (c.header.encoding !== CHUNK_ENCODING_BLOCK || c.key.writer !== COMPACTION_WRITER) return false;
    if (i > 0 && c.header.minTimeMs <= byTime[i - 1]!.header.maxTimeMs) return false;
  }
  return true;
}

/**
 * The batch that replaces a window's chunks by their merge: new keys under the maintenance
 * writer with a fresh generation (so no key is ever rewritten), and every old key deleted.
 */
function compactionOps(sid: bigint, windowStartMs: number, group: readonly StoredChunk[], nowMs: number): KvOp[] {
  const merged = mergeRuns(group.map((c) => decodeChunkSamples(c.entry.value)));
  const generation = rewriteGeneration(nowMs, group);
  const ops: KvOp[] = encodeBlocks(merged).map((value, i) => ({
    type: 'put',
    key: chunkKey(sid, windowStartMs, COMPACTION_WRITER, rewriteSeq(generation, i)),
    value,
  }));
  for (const c of group) ops.push({ type: 'del', key: c.entry.key });
  return ops;
}

export interface CompactionJobOptions {
  readonly kv: KvStore;
  /** Default one hour. */
  readonly intervalMs?: number;
  /** Default one hour. */
  readonly graceMs?: number;
  /**
   * How far back a pass may look (default one day). The first pass on this node looks that far;
   * later ones start where the last complete one ended (or at the earliest window it skipped for
   * an open chunk), less one interval for late writes.
   */
  readonly initialLookbackMs?: number;
  readonly pageSize?: number;
  readonly clock?: Clock;
  /**
   * Run after each complete pass: gives the space compaction freed back to the file system
   * (EmbeddedKv.reclaimSpace, which decides itself whether that is worth it).
   */
  readonly reclaimSpace?: () => Promise<unknown>;
}

export interface CompactionJobSummary extends CompactionSummary {
  /** What reclaimSpace reported after the pass; null when it did not run. */
  readonly reclaim: unknown;
}

/** Compaction as a scheduled job, run only by the holder of the "compaction" lease. */
export class CompactionJob implements MaintenanceJob {
  readonly name = 'compaction';
  readonly intervalMs: number;
  private readonly options: CompactionJobOptions;
  private readonly clock: Clock;
  /** Windows before this were all examined by a complete pass on this node. */
  private doneBeforeMs: number | null = null;

  constructor(options: CompactionJobOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
  }

  async run(ctx: JobContext): Promise<CompactionJobSummary> {
    const nowMs = this.clock.nowMs();
    const earliestMs = nowMs - (this.options.initialLookbackMs ?? 86_400_000);
    const fromMs =
      this.doneBeforeMs === null
        ? earliestMs
        : Math.max(earliestMs, this.doneBeforeMs - Math.max(this.intervalMs, WINDOW_MS));
    const summary = await compactClosedWindows(this.options.kv, {
      nowMs,
      fromMs,
      ...(this.options.graceMs !== undefined ? { graceMs: this.options.graceMs } : {}),
      ...(this.options.pageSize !== undefined ? { pageSize: this.options.pageSize } : {}),
      shouldContinue: () => ctx.shouldContinue(),
    });
    if (!summary.complete) return { ...summary, reclaim: null };
    this.doneBeforeMs = Math.min(summary.closedBeforeMs, summary.retryFromMs ?? Number.POSITIVE_INFINITY);
    const reclaim = ctx.shouldContinue() && this.options.reclaimSpace !== undefined ? await this.options.reclaimSpace() : null;
    return { ...summary, reclaim };
  }
}

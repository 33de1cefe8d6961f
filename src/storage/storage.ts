import { randomBytes } from 'node:crypto';
import { MetricstorError, badData } from '../errors.js';
import { prefixEnd } from '../kv/bytes.js';
import type { KvOp, KvStore } from '../kv/kv.js';
import type { Labels } from '../model/labels.js';
import { compareLabels } from '../model/labels.js';
import type { Matcher } from '../model/matchers.js';
import type { Clock } from './maintenance/clock.js';
import { systemClock } from './maintenance/clock.js';
import {
  Lease,
  decodeLeaseRecord,
  encodeLeaseRecord,
  leaseExpired,
  readLease,
} from './maintenance/lease.js';
import { leaseKey } from './maintenance/keys.js';
import { deleteSeriesData } from './maintenance/delete.js';
import type {
  AppendBatch,
  LabelQuery,
  MetricMetadata,
  MetricStorage,
  SelectParams,
  SeriesData,
  TsdbStats,
} from './types.js';
import { ChunkCache } from './chunk-cache.js';
import { Committer, DEFAULT_BATCH_LIMITS } from './committer.js';
import { Head } from './head.js';
import {
  dayOfMs,
  decodeWalKey,
  makeSeq,
  MAX_INCARNATION,
  walKey,
  walPrefix,
  walWriterPrefix,
  writerHex,
  writerLeaseName,
} from './keys.js';
import { firstEntry } from './kv-scan.js';
import type { LabelsHasher } from './labels-codec.js';
import { decodeMetadata, encodeMetadata, metadataEntries, metadataKeyOf } from './metadata.js';
import { selectSeries } from './querier.js';
import type { SeriesChunks } from './raw-chunks.js';
import { selectChunks } from './raw-chunks.js';
import type { IndexMarks, SelectedSeries, SeriesEntry } from './series-index.js';
import { SeriesIndex } from './series-index.js';
import { computeStats } from './stats.js';
import { decodeWalRecord, encodeWalRecord } from './wal-codec.js';
import { SegmentLog, type SegmentLogCounters, type SegmentReplay } from './wal/segment-log.js';
import { FileWriteAheadLog, KvWriteAheadLog, type WriteAheadLog } from './wal/write-ahead-log.js';

export interface StorageRuntimeStats {
  readonly chunkCacheHits: number;
  readonly chunkCacheMisses: number;
  readonly chunkCacheBytes: number;
  readonly openChunks: number;
  /** Series with samples in this writer's head. */
  readonly headSeries: number;
  /** Series this process added to the index. */
  readonly seriesCreated: number;
}

export type HeadFlush = 'write-through' | { readonly intervalMs: number };

export interface StorageOptions {
  /** This process's writer id (64-bit); random by default. Two live processes must not share one. */
  readonly writerId?: bigint;
  /** How open chunks reach the KV (DESIGN.md, write path step 4). Default write-through. */
  readonly headFlush?: HeadFlush;
  /** Byte budget of the decoded-chunk cache; 0 disables it. Default 64 MiB. */
  readonly chunkCacheBytes?: number;
  /** Retention in milliseconds, for the maintenance jobs; 0 or absent keeps everything. */
  readonly retentionMs?: number;
  readonly clock?: Clock;
  /** An open chunk not appended to for this long is closed. Default 10 minutes. */
  readonly idleChunkCloseMs?: number;
  /** TTL of the writer lease that guards this writer's write-ahead records. Default 60 s. */
  readonly writerLeaseTtlMs?: number;
  /** How often to look for write-ahead records of writers that stopped. Default 60 s; 0 = only on open. */
  readonly orphanCheckMs?: number;
  /** Series in the write-path cache. Default one million. */
  readonly maxCachedSeries?: number;
  /**
   * A directory this process alone owns, for the buffered head's write-ahead records as segment
   * files. Absent: the records are KV keys, which other writers can adopt (a shared KV).
   */
  readonly walDir?: string;
  /**
   * With `walDir`: how often the buffered head writes its open chunks (a checkpoint), after which
   * older segments are deleted. The flushes in between write only closed chunks, so an open chunk
   * is not rewritten every flush interval. Default 60 s; at most this much ingest is replayed.
   */
  readonly checkpointIntervalMs?: number;
  /**
   * With `walDir`: once this many closed chunks wait for the KV, they are written without waiting
   * for the flush interval, which bounds the head's memory when samples arrive faster than real
   * time (a backlog, a replay). Default 8,192.
   */
  readonly closedChunksWriteAt?: number;
  /** Replaces the series hash; only tests use it (to force collisions). */
  readonly hasher?: LabelsHasher;
}

const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
const WRITE_THROUGH_TICK_MS = 30_000;
const DEFAULT_CHECKPOINT_MS = 60_000;
const DEFAULT_CLOSED_CHUNKS_WRITE_AT = 8192;
const REPLAY_PAGE = 64;
const MIN_TS = Number.MIN_SAFE_INTEGER;
const MAX_TS = Number.MAX_SAFE_INTEGER;

function randomWriterId(): bigint {
  let id = 0n;
  while (id === 0n) id = randomBytes(8).readBigUInt64BE(0); // 0 is reserved for compaction
  return id;
}

/**
 * The storage engine over any KvStore (DESIGN.md): series index, this writer's head of open
 * chunks, chunk reads with a cache, metadata, and the two head policies.
 */
export class Storage implements MetricStorage {
  readonly writerId: bigint;
  readonly options: StorageOptions;
  private readonly kv: KvStore;
  private readonly clock: Clock;
  private readonly buffered: boolean;
  private readonly index: SeriesIndex;
  private readonly cache: ChunkCache;
  private readonly holder: string;
  private head!: Head;
  private committer!: Committer;
  private writerLease!: Lease;
  private log!: WriteAheadLog;
  private segments: SegmentLog | null = null;
  /** What opening found in the write-ahead segments (file log only). */
  walReplay: SegmentReplay | null = null;
  private timer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private lastOrphanCheckMs = 0;
  private lastCheckpointMs = 0;
  private ticking: Promise<void> | null = null;
  /** The write of closed chunks started because too many waited; null when none is under way. */
  private closedWrite: Promise<void> | null = null;
  private closed = false;

  private constructor(kv: KvStore, options: StorageOptions) {
    this.kv = kv;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.writerId = options.writerId ?? randomWriterId();
    if (this.writerId <= 0n || this.writerId > 0xffff_ffff_ffff_ffffn) {
      throw new MetricstorError('bad_data', 'writer id must be a non-zero unsigned 64-bit integer');
    }
    const flush = options.headFlush ?? 'write-through';
    this.buffered = flush !== 'write-through';
    if (flush !== 'write-through' && !(flush.intervalMs > 0)) throw badData('head flush interval must be positive');
    this.index = new SeriesIndex(kv, {
      ...(options.maxCachedSeries !== undefined ? { maxCachedSeries: options.maxCachedSeries } : {}),
      ...(options.hasher !== undefined ? { hasher: options.hasher } : {}),
    });
    this.cache = new ChunkCache(options.chunkCacheBytes ?? DEFAULT_CACHE_BYTES);
    this.holder = `${writerHex(this.writerId)}/${randomBytes(6).toString('hex')}`;
  }

  /** Opens the storage: takes this writer's lease, replays write-ahead records left behind. */
  static async open(kv: KvStore, options: StorageOptions = {}): Promise<Storage> {
    const s = new Storage(kv, options);
    const incarnation = await s.takeWriterLease();
    s.head = new Head(s.writerId, incarnation);
    s.segments = options.walDir === undefined ? null : await SegmentLog.open(options.walDir);
    s.committer = new Committer(kv, s.head, s.index, !s.buffered, DEFAULT_BATCH_LIMITS, s.segments);
    s.log = s.segments === null ? new KvWriteAheadLog(s.committer, s.writerId, incarnation) : new FileWriteAheadLog(s.committer, s.segments);
    // Segments first: any flush from here on (orphan replay included) covers their samples.
    if (s.segments !== null) s.walReplay = await s.replaySegments(s.segments);
    s.lastCheckpointMs = s.clock.nowMs();
    await s.recoverOrphans(true);
    s.startTimer();
    return s;
  }

  /** Appends the records of the segments left behind to the head; the flush then deletes those segments. */
  private async replaySegments(segments: SegmentLog): Promise<SegmentReplay> {
    const nowMs = this.clock.nowMs();
    const report = await segments.replay((payload) => {
      for (const s of decodeWalRecord(payload)) this.head.append(this.head.getOrCreate(s.sid), s.timestamps, s.values, nowMs);
    });
    if (report.segments > 0) await this.committer.commit([], [], null, true);
    return report;
  }

  private get leaseTtlMs(): number {
    return this.options.writerLeaseTtlMs ?? 60_000;
  }

  /**
   * Takes `L writer/<id>` whatever its state (a record there is this writer's previous life),
   * raising its epoch: the epoch becomes this incarnation, which keeps new chunk and write-ahead
   * keys apart from the old ones.
   */
  private async takeWriterLease(): Promise<number> {
    const name = writerLeaseName(this.writerId);
    const key = leaseKey(name);
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.kv.get(key);
      const record = current === null ? null : decodeLeaseRecord(current);
      const epoch = (record?.epoch ?? 0) + 1;
      if (epoch > MAX_INCARNATION) throw new MetricstorError('internal', 'writer incarnation overflow');
      const value = encodeLeaseRecord({ holder: this.holder, epoch, expiresAtMs: this.clock.nowMs() + this.leaseTtlMs });
      if (await this.kv.compareAndSwap(key, current, value)) {
        this.writerLease = new Lease(this.kv, name, this.holder, { ttlMs: this.leaseTtlMs, clock: this.clock });
        if (!(await this.writerLease.acquire())) break;
        return epoch;
      }
    }
    throw new MetricstorError('unavailable', `could not take the lease of writer ${writerHex(this.writerId)}`);
  }

  private startTimer(): void {
    const tickMs = this.buffered ? (this.options.headFlush as { intervalMs: number }).intervalMs : WRITE_THROUGH_TICK_MS;
    this.timer = setInterval(() => {
      this.ticking ??= this.tick()
        .catch(() => undefined) // a failed flush is retried on the next tick; appends report their own errors
        .finally(() => {
          this.ticking = null;
        });
    }, tickMs);
    this.timer.unref();
    // The lease must outlive the gaps between ticks, whatever the flush interval.
    this.leaseTimer = setInterval(() => {
      if (!this.closed) this.keepWriterLease().catch(() => undefined);
    }, this.leaseTtlMs / 3);
    this.leaseTimer.unref();
  }

  /** Renews this writer's lease; if it was lost (e.g. a stall past the TTL), takes it back. */
  private async keepWriterLease(): Promise<void> {
    if (!(await this.writerLease.renew())) await this.writerLease.acquire();
  }

  /** One round of background work: close idle chunks, flush, renew the lease, adopt orphans. */
  async tick(): Promise<void> {
    if (this.closed) return;
    const nowMs = this.clock.nowMs();
    this.head.closeIdle(nowMs - (this.options.idleChunkCloseMs ?? 600_000));
    const checkpoint = this.segments === null || nowMs - this.lastCheckpointMs >= (this.options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_MS);
    if (checkpoint && this.head.hasChanges(this.buffered)) {
      this.lastCheckpointMs = nowMs;
      await this.committer.commit([], [], null, true);
    } else if (!checkpoint && this.head.hasChanges(false)) await this.committer.commit([], [], null, false);
    await this.keepWriterLease();
    const orphanEvery = this.options.orphanCheckMs ?? 60_000;
    if (orphanEvery > 0 && nowMs - this.lastOrphanCheckMs >= orphanEvery) await this.recoverOrphans(false);
  }

  /** Counters and sizes for self-monitoring, read when metrics are scraped. */
  runtimeStats(): StorageRuntimeStats {
    return {
      chunkCacheHits: this.cache.hits,
      chunkCacheMisses: this.cache.misses,
      chunkCacheBytes: this.cache.sizeBytes,
      openChunks: this.head?.openChunkCount ?? 0,
      headSeries: this.head?.seriesCount ?? 0,
      seriesCreated: this.index.seriesCreated,
    };
  }

  /** Writes, fdatasyncs and segments of the file write-ahead log; null with the KV log. */
  get walCounters(): SegmentLogCounters | null {
    return this.segments?.counters ?? null;
  }

  /** Writes every changed open chunk to the KV now (buffered policy) and deletes covered records. */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.committer.commit([], [], null, true);
  }

  /** Closes and writes every open chunk, as close() does, but stays open: later samples start new chunks. */
  async closeOpenChunks(): Promise<void> {
    this.checkOpen();
    this.head.closeAll();
    await this.committer.commit([], [], null, true);
  }

  // ---- write path -----------------------------------------------------------------------------

  async append(batch: AppendBatch): Promise<void> {
    this.checkOpen();
    const n = checkBatchShape(batch);
    const days: (number | number[])[] = new Array(n);
    for (let i = 0; i < n; i++) days[i] = validateAndDays(batch.timestamps, batch.starts[i]!, batch.ends[i]!);
    const entries = await this.index.resolveAppends(batch.labels, batch.refs);
    this.checkOpen();
    return this.appendResolved(batch, entries, days);
  }

  /**
   * The rest of append, once every series has its entry: stages index keys, appends to the head,
   * and returns the promise of the write-ahead record (or commit). Not async, so that nothing it
   * made per series is held by a suspended frame until the fsync.
   */
  private appendResolved(batch: AppendBatch, entries: readonly SeriesEntry[], days: readonly (number | number[])[]): Promise<void> {
    const n = batch.length;
    const nowMs = this.clock.nowMs();
    const ops: KvOp[] = [];
    const marks: IndexMarks = [];
    const walSids: bigint[] | null = this.buffered ? new Array<bigint>(n) : null;
    const { timestamps, values, starts, ends } = batch;
    let walSeries = 0;
    for (let i = 0; i < n; i++) {
      const start = starts[i]!;
      const end = ends[i]!;
      const e = entries[i]!;
      if (walSids !== null) walSids[i] = e.sid;
      if (start === end) continue;
      walSeries++;
      const d = days[i]!;
      if (typeof d === 'number') {
        if (!e.isIndexed(d)) this.index.stageDay(e, d, ops, marks, this.committer.generation);
      } else for (const day of d) if (!e.isIndexed(day)) this.index.stageDay(e, day, ops, marks, this.committer.generation);
      let sh = e.head;
      if (sh === null || sh.detached) sh = e.head = this.head.getOrCreate(e.sid);
      this.head.append(sh, timestamps, values, nowMs, start, end);
    }
    // The ops go to the committer before anything else can start a commit: they were staged for
    // its current generation.
    const done =
      walSids !== null && walSeries > 0
        ? this.log.append(encodeWalRecord(walSids, { timestamps, values, starts, ends }), ops, marks)
        : this.committer.commit(ops, marks, null, false);
    // With the KV log every append's batch already takes the closed chunks; segment files do not.
    if (this.segments !== null && this.head.closedWaiting >= (this.options.closedChunksWriteAt ?? DEFAULT_CLOSED_CHUNKS_WRITE_AT)) this.writeClosedChunks();
    return done;
  }

  /** Writes the closed chunks now, unless such a write is under way; a failure leaves them to the next tick. */
  private writeClosedChunks(): void {
    this.closedWrite ??= this.committer
      .commit([], [], null, false)
      .catch(() => undefined)
      .finally(() => {
        this.closedWrite = null;
      });
  }

  // ---- recovery of write-ahead records ----------------------------------------------------------

  /**
   * Replays write-ahead records of writers that stopped: this writer's own previous life (only
   * when `ownToo`, i.e. on open) and any writer whose lease expired, taking its lease first.
   */
  private async recoverOrphans(ownToo: boolean): Promise<void> {
    this.lastOrphanCheckMs = this.clock.nowMs();
    const prefix = walPrefix();
    const end = prefixEnd(prefix);
    for (let start = prefix; ; ) {
      const first = await firstEntry(this.kv, start, end);
      if (first === null) break;
      const writer = decodeWalKey(first.key).writer;
      start = prefixEnd(walWriterPrefix(writer));
      if (writer === this.writerId) {
        if (ownToo) await this.replayWriter(writer, makeSeq(this.head.incarnation, 0));
        continue;
      }
      const name = writerLeaseName(writer);
      if (!leaseExpired(await readLease(this.kv, name), this.clock.nowMs())) continue;
      const lease = new Lease(this.kv, name, this.holder, { ttlMs: this.leaseTtlMs, clock: this.clock });
      if (!(await lease.acquire())) continue;
      try {
        await this.replayWriter(writer, null);
      } finally {
        await this.expireLease(name);
      }
    }
  }

  /** Appends a writer's records (below `beforeSeq` when given) to this head, flushes, deletes them. */
  private async replayWriter(writer: bigint, beforeSeq: bigint | null): Promise<void> {
    const prefix = walWriterPrefix(writer);
    const end = beforeSeq === null ? prefixEnd(prefix) : walKey(writer, beforeSeq);
    for (;;) {
      const page = await this.kv.scan({ start: prefix, end, limit: REPLAY_PAGE });
      if (page.entries.length === 0) return;
      const nowMs = this.clock.nowMs();
      for (const e of page.entries) {
        for (const s of decodeWalRecord(e.value)) {
          this.head.append(this.head.getOrCreate(s.sid), s.timestamps, s.values, nowMs);
        }
      }
      this.committer.coverOnFlush(page.entries.map((e) => e.key));
      await this.committer.commit([], [], null, true);
    }
  }

  // ---- read path ------------------------------------------------------------------------------

  async select(params: SelectParams): Promise<SeriesData[]> {
    this.checkOpen();
    return selectSeries({ kv: this.kv, index: this.index, head: this.head, cache: this.cache }, params);
  }

  /** The stored XOR chunks of matching series (remote read); see raw-chunks.ts for when they are re-encoded. */
  async selectChunks(params: SelectParams): Promise<SeriesChunks[]> {
    this.checkOpen();
    return selectChunks({ kv: this.kv, index: this.index, head: this.head, cache: this.cache }, params);
  }

  /** Series (labels only) matching any of the matcher sets; no sets = every series. */
  private async matchingSeries(q: LabelQuery): Promise<SelectedSeries[]> {
    const sets: readonly (readonly Matcher[])[] =
      q.matcherSets.length > 0 ? q.matcherSets : [[{ type: '=~', name: '__name__', value: '.+' }]];
    const bySid = new Map<bigint, SelectedSeries>();
    for (const matchers of sets) {
      for (const s of await this.index.select(matchers, q.startMs, q.endMs)) bySid.set(s.sid, s);
    }
    return [...bySid.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  }

  async series(q: LabelQuery): Promise<Labels[]> {
    this.checkOpen();
    const all = (await this.matchingSeries(q)).map((s) => s.labels);
    return q.limit ? all.slice(0, q.limit) : all;
  }

  async labelNames(q: LabelQuery): Promise<string[]> {
    this.checkOpen();
    let names: Set<string>;
    if (q.matcherSets.length === 0) names = await this.index.labelNames(q.startMs, q.endMs);
    else {
      names = new Set();
      for (const s of await this.matchingSeries(q)) for (const l of s.labels) names.add(l.name);
    }
    return limitSorted(names, q.limit);
  }

  async labelValues(name: string, q: LabelQuery): Promise<string[]> {
    this.checkOpen();
    let values: Set<string>;
    if (q.matcherSets.length === 0) values = await this.index.labelValues(name, q.startMs, q.endMs);
    else {
      values = new Set();
      for (const s of await this.matchingSeries(q)) {
        for (const l of s.labels) if (l.name === name) values.add(l.value);
      }
    }
    return limitSorted(values, q.limit);
  }

  /**
   * Deletes the samples in range of every matching series. This writer's chunks of those series
   * are closed and written first, so that everything it holds is in the KV when deletion runs.
   */
  async deleteSeries(q: LabelQuery): Promise<void> {
    this.checkOpen();
    if (q.matcherSets.length === 0) throw badData('no match[] parameter provided');
    const matched = new Map<bigint, Labels>();
    for (const matchers of q.matcherSets) {
      for (const s of await this.index.select(matchers, q.startMs, q.endMs)) matched.set(s.sid, s.labels);
    }
    for (const sid of matched.keys()) {
      const sh = this.head.get(sid);
      if (sh !== undefined) for (const c of sh.chunks) this.head.close(c);
    }
    await this.committer.commit([], [], null, true);
    await deleteSeriesData(this.kv, this.index, q, { nowMs: this.clock.nowMs() });
    // postings of old days may be gone: let the next write of these series stage them again
    this.index.forget([...matched.values()]);
  }

  // ---- metadata, stats, lifecycle -------------------------------------------------------------

  async putMetadata(entries: readonly MetricMetadata[]): Promise<void> {
    this.checkOpen();
    if (entries.length === 0) return;
    await this.kv.batch(entries.map((m) => ({ type: 'put', key: metadataKeyOf(m.metricFamilyName), value: encodeMetadata(m) })));
  }

  async metadata(metric?: string, limit?: number): Promise<Map<string, MetricMetadata[]>> {
    this.checkOpen();
    const out = new Map<string, MetricMetadata[]>();
    if (metric !== undefined && metric !== '') {
      const bytes = await this.kv.get(metadataKeyOf(metric));
      if (bytes !== null) out.set(metric, [decodeMetadata(metric, bytes)]);
      return out;
    }
    for (const m of await metadataEntries(this.kv, limit ?? 0)) out.set(m.metricFamilyName, [m]);
    return out;
  }

  async stats(limit: number): Promise<TsdbStats> {
    this.checkOpen();
    const today = dayOfMs(this.clock.nowMs());
    const days = await this.index.daysWithData((today - 1) * 86_400_000, today * 86_400_000 + 86_399_999);
    const day = days.length > 0 ? days[days.length - 1]! : today;
    return computeStats(this.index, day, limit);
  }

  async ready(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.kv.get(leaseKey(writerLeaseName(this.writerId)));
      return true;
    } catch {
      return false;
    }
  }

  /** Closes every open chunk, writes them, releases the writer lease. Does not close the KV. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopTimers();
    if (this.ticking !== null) await this.ticking;
    await this.committer.idle();
    this.head.closeAll();
    await this.committer.commit([], [], null, true);
    this.closed = true;
    await this.segments?.close();
    await this.expireLease(writerLeaseName(this.writerId));
  }

  /**
   * Ends our hold on a writer lease by marking it expired, never by deleting it: its epoch is the
   * incarnation counter of that writer id, and a writer restarted with the same id must get a
   * higher one, or its new chunk keys could overwrite those of an earlier life. (A writer lease
   * expired for longer than the retention period may be deleted: no chunk of it is left then.)
   */
  private async expireLease(name: string): Promise<void> {
    const key = leaseKey(name);
    const current = await this.kv.get(key);
    const record = current === null ? null : decodeLeaseRecord(current);
    if (record === null || record.holder !== this.holder) return;
    const expired = encodeLeaseRecord({ ...record, expiresAtMs: Math.min(record.expiresAtMs, this.clock.nowMs()) });
    await this.kv.compareAndSwap(key, current, expired);
  }

  /**
   * Stops timers without writing anything, as if the process died here (tests of recovery).
   * Whatever the KV holds stays as it is, the writer lease included.
   */
  abandon(): void {
    this.stopTimers();
    this.closed = true;
    this.segments?.abandon();
  }

  /** Figures for tests, benchmarks and metrics. */
  get counters(): { headSeries: number; chunkCacheHits: number; chunkCacheMisses: number; chunkCacheBytes: number } {
    return {
      headSeries: this.head.seriesCount,
      chunkCacheHits: this.cache.hits,
      chunkCacheMisses: this.cache.misses,
      chunkCacheBytes: this.cache.sizeBytes,
    };
  }

  private stopTimers(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.leaseTimer !== null) clearInterval(this.leaseTimer);
    this.timer = null;
    this.leaseTimer = null;
  }

  private checkOpen(): void {
    if (this.closed) throw new MetricstorError('unavailable', 'storage is closed');
  }
}

function limitSorted(set: Set<string>, limit: number | undefined): string[] {
  const sorted = [...set].sort();
  return limit ? sorted.slice(0, limit) : sorted;
}

/** Checks that a batch's columns agree; returns its series count. */
function checkBatchShape(batch: AppendBatch): number {
  const n = batch.length;
  if (!(batch.values instanceof Float64Array) || !(batch.timestamps instanceof Float64Array)) {
    throw badData('sample timestamps and values must be Float64Arrays');
  }
  const refs = batch.refs;
  if (batch.labels.length !== n || batch.starts.length !== n || batch.ends.length !== n || (refs !== undefined && refs.length !== n)) {
    throw badData(`an append of ${n} series has columns of other lengths`);
  }
  const size = Math.min(batch.timestamps.length, batch.values.length);
  for (let i = 0; i < n; i++) {
    const start = batch.starts[i]!;
    const end = batch.ends[i]!;
    if (!(start >= 0 && start <= end && end <= size)) {
      throw badData(
        `series samples [${start}, ${end}) are not within the ${batch.timestamps.length} timestamps and ${batch.values.length} values of the append`,
      );
    }
  }
  return n;
}

/**
 * Checks samples [start, end) of one series and returns the UTC day they fall on, or the distinct
 * days when there are several (a number in the common case saves an array per series on the hot path).
 */
function validateAndDays(ts: Float64Array, start: number, end: number): number | number[] {
  if (start === end) return [];
  let min = ts[start]!;
  let max = min;
  for (let i = start; i < end; i++) {
    const t = ts[i]!;
    if (!(t >= MIN_TS && t <= MAX_TS) || t % 1 !== 0) throw badData(`invalid sample timestamp ${t}`);
    if (t < min) min = t;
    else if (t > max) max = t;
  }
  const first = dayOfMs(min);
  const last = dayOfMs(max);
  if (first === last) return first;
  const days = new Set<number>();
  for (let i = start; i < end; i++) days.add(dayOfMs(ts[i]!));
  return [...days].sort((a, b) => a - b);
}

import { compareBytes } from '../kv/bytes.js';
import type { KvBatchLimits, KvOp, KvStore } from '../kv/kv.js';
import type { ChunkSnapshot, Head } from './head.js';
import type { IndexMarks, SeriesIndex } from './series-index.js';

/** Limits of one KV batch; a commit larger than this goes out as several batches in order. */
export type BatchLimits = KvBatchLimits;

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBatchBytes: 8 * 1024 * 1024, maxBatchOps: 50_000 };

/**
 * A write-ahead log outside the KV that the flush protocol drives: `flushStarting` is called in
 * the synchronous step that snapshots the head for a flush, so every record it has before that
 * point is covered by the snapshots; `flushCommitted` once those snapshots are committed.
 */
export interface FlushListener {
  flushStarting(): number;
  flushCommitted(position: number): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Group commit of the write path: appends stage their KV operations here and wait; one batch at a
 * time goes to the KV, carrying everything staged since the previous one. Serial batches matter:
 * a chunk is rewritten under the same key as it grows, so an older snapshot must never land after
 * a newer one. A flush batch also carries every changed open chunk and deletes the write-ahead
 * records those chunks now cover.
 */
export class Committer {
  private ops: KvOp[] = [];
  private marks: IndexMarks = [];
  /** Write-ahead records staged for the next batch. */
  private walPuts: { key: Uint8Array; value: Uint8Array }[] = [];
  /** Write-ahead records in the KV whose samples are not yet all in committed chunks. */
  private uncoveredWal: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  private flushWanted = false;
  private running: Promise<void> | null = null;
  private taken = 0;
  private readonly limits: BatchLimits;

  constructor(
    private readonly kv: KvStore,
    private readonly head: Head,
    private readonly index: SeriesIndex,
    /** write-through: every batch writes every changed chunk. */
    private readonly writeThrough: boolean,
    limits: BatchLimits = DEFAULT_BATCH_LIMITS,
    private readonly flushListener: FlushListener | null = null,
  ) {
    const backend = kv.batchLimits;
    this.limits =
      backend === undefined
        ? limits
        : { maxBatchBytes: Math.min(limits.maxBatchBytes, backend.maxBatchBytes), maxBatchOps: Math.min(limits.maxBatchOps, backend.maxBatchOps) };
  }

  /** Resolves once `ops` (and, with `flush`, every chunk change before this call) are committed. */
  commit(ops: readonly KvOp[], marks: IndexMarks, wal: { key: Uint8Array; value: Uint8Array } | null, flush: boolean): Promise<void> {
    for (const op of ops) this.ops.push(op);
    for (const m of marks) this.marks.push(m);
    if (wal !== null) this.walPuts.push(wal);
    if (flush) this.flushWanted = true;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.running ??= this.run();
    return done;
  }

  /**
   * Names the commit that will take the ops `commit` is given now: it changes each time a commit
   * takes what was staged. Ops of one generation are written in the order given, as one KV batch
   * or as consecutive batches that stop at the first failure.
   */
  get generation(): number {
    return this.taken;
  }

  /** Write-ahead records already in the KV (e.g. being replayed) that the next flush deletes. */
  coverOnFlush(keys: readonly Uint8Array[]): void {
    for (const k of keys) this.uncoveredWal.push(k);
  }

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async run(): Promise<void> {
    try {
      while (this.waiters.length > 0) await this.commitOne();
    } finally {
      this.running = null;
    }
  }

  /**
   * Writes the staged ops, the chunk puts and then `tail` as one KV batch, or as several in order
   * when they are very many (a flush of a large head), so no batch outgrows what the KV takes well
   * in one. Split, the chunk puts go in key order: each batch then rewrites one contiguous stretch
   * of the key space instead of a few chunks all over it, which in a B-tree means copying a few
   * neighbouring pages rather than nearly every leaf once per batch. The staged ops (postings of
   * new series) stay first, ahead of the chunks they lead to; `tail` (the write-ahead records,
   * whose deletes must follow every chunk that covers them) stays last.
   */
  private async writeInSlices(staged: readonly KvOp[], chunkPuts: KvOp[], tail: readonly KvOp[]): Promise<void> {
    const ops = [...staged, ...chunkPuts, ...tail];
    if (chunkPuts.length > 1 && !this.fitsOneBatch(ops)) {
      chunkPuts.sort((x, y) => compareBytes(x.key, y.key));
      for (let i = 0; i < chunkPuts.length; i++) ops[staged.length + i] = chunkPuts[i]!;
    }
    let start = 0;
    let sizeBytes = 0;
    for (let i = 0; i < ops.length; i++) {
      sizeBytes += opBytes(ops[i]!);
      if (sizeBytes >= this.limits.maxBatchBytes || i + 1 - start >= this.limits.maxBatchOps) {
        await this.kv.batch(ops.slice(start, i + 1));
        start = i + 1;
        sizeBytes = 0;
      }
    }
    if (start < ops.length) await this.kv.batch(start === 0 ? ops : ops.slice(start));
  }

  private fitsOneBatch(ops: readonly KvOp[]): boolean {
    if (ops.length >= this.limits.maxBatchOps) return false;
    let sizeBytes = 0;
    for (const op of ops) sizeBytes += opBytes(op);
    return sizeBytes < this.limits.maxBatchBytes;
  }

  private async commitOne(): Promise<void> {
    const ops = this.ops;
    const marks = this.marks;
    const waiters = this.waiters;
    const walPuts = this.walPuts;
    const flush = this.writeThrough || this.flushWanted;
    this.ops = [];
    this.marks = [];
    this.waiters = [];
    this.walPuts = [];
    this.flushWanted = false;
    this.taken++;

    const snapshots: ChunkSnapshot[] = this.head.takeChanged(flush);
    const listener = flush ? this.flushListener : null;
    const logPosition = listener?.flushStarting() ?? null;
    // A closed chunk is final: written once, then read seldom until compaction replaces it.
    const chunkPuts: KvOp[] = snapshots.map((s) => ({ type: 'put', key: this.head.chunkKey(s.chunk), value: s.value, bulk: s.chunk.closed }));
    const tail: KvOp[] = [];
    let covered: Uint8Array[] = [];
    if (flush) {
      // The snapshots hold every sample appended so far, so this batch's own records are not needed.
      covered = this.uncoveredWal;
      this.uncoveredWal = [];
      for (const key of covered) tail.push({ type: 'del', key });
    } else {
      for (const w of walPuts) tail.push({ type: 'put', key: w.key, value: w.value });
    }
    try {
      await this.writeInSlices(ops, chunkPuts, tail);
    } catch (err) {
      this.head.failed(snapshots);
      if (flush) {
        for (const key of covered) this.uncoveredWal.push(key);
        if (!this.writeThrough) this.flushWanted = true;
      }
      for (const w of waiters) w.reject(err);
      return;
    }
    this.head.committed(snapshots);
    this.index.markCommitted(marks);
    if (!flush) for (const w of walPuts) this.uncoveredWal.push(w.key);
    // A segment left behind is deleted by the next flush; the samples are committed either way.
    if (listener !== null && logPosition !== null) await listener.flushCommitted(logPosition).catch(() => undefined);
    for (const w of waiters) w.resolve();
  }
}

function opBytes(op: KvOp): number {
  return op.key.length + (op.type === 'put' ? op.value.length : 0) + 16;
}

import { mkdir, open as openFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { open, type Database, type RangeOptions, type RootDatabase } from 'lmdb';
import { MetricstorError, errorMessage, isMetricstorError } from '../errors.js';
import { compareBytes, equalBytes } from './bytes.js';
import type { KvBatchLimits, KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
import { DEFAULT_SCAN_LIMIT, checkKey, checkOps, checkRange } from './validate.js';

/**
 * When a write resolves:
 * - 'flush' (default): after the fsync that covers its commit, so it survives power loss.
 * - 'commit': once committed to the OS page cache; it survives a crash of the process, and after
 *   power loss the store reopens at the last flushed commit (consistent, but recent writes lost).
 */
export type EmbeddedDurability = 'flush' | 'commit';

export interface EmbeddedKvOptions {
  readonly durability?: EmbeddedDurability;
}

/** How the LMDB file is used: what it occupies, and what of it the live tree needs. */
export interface FileUsage {
  /** Bytes the data file occupies on disk. */
  readonly fileBytes: number;
  /** Pages up to the file's high-water mark (LMDB never gives pages back to the file system). */
  readonly filePages: number;
  /** Branch, leaf and overflow pages of the live tree and the free-page list. */
  readonly usedPages: number;
  readonly pageSize: number;
  readonly entries: number;
}

export interface ReclaimOptions {
  /** Rewrite only when at least this share of the file's pages is not in use (default 0.5). */
  readonly minFreeFraction?: number;
  /** Rewrite only when the file occupies at least this many bytes (default 64 MiB). */
  readonly minFileBytes?: number;
  /**
   * Rewrite only when the pages in use take at most this many bytes (default: no limit); bounds
   * how long every call waits for the rewrite.
   */
  readonly maxUsedBytes?: number;
}

export interface ReclaimSummary {
  readonly rewritten: boolean;
  readonly before: FileUsage;
  readonly after: FileUsage;
  readonly durationMs: number;
}

const RECLAIM_DIR = 'reclaim';
/** Address space reserved for the map (not disk: the file grows only as pages are written). */
const MAP_SIZE_BYTES = 2 ** 40;
const RECLAIM_TXN_ENTRIES = 5_000;
/**
 * Each batch is one write transaction, which copies every page it changes into a malloc'd page
 * (LMDB keeps those for reuse, so the largest transaction's pages stay allocated) and frees the
 * pages it copied only for transactions after it has been synced. Small batches keep both bounded.
 */
const BATCH_LIMITS: KvBatchLimits = {
  maxBatchBytes: 1024 * 1024,
  maxBatchOps: 2048,
};
const DEFAULT_RECLAIM: Required<ReclaimOptions> = {
  minFreeFraction: 0.5,
  minFileBytes: 64 * 1024 * 1024,
  maxUsedBytes: Number.POSITIVE_INFINITY,
};

/**
 * The default KvStore: LMDB (through the lmdb package) in one directory. See
 * docs/adr/0001-embedded-kv.md for why LMDB and what the durability modes cost.
 *
 * LMDB has a single writer; lmdb-js gathers all writes of one event turn into one transaction and
 * commits it on its own thread, overlapping the fsync of one commit with the next transaction.
 * A batch goes into that queue as one block, so it commits whole. CAS runs its read and its write
 * inside one write transaction, so it is atomic with respect to every other write, including
 * those of other processes that open the same directory. Reads are synchronous on a snapshot.
 *
 * Keys and values handed out are the Buffers lmdb creates for each read: fresh copies that nothing
 * else references, so they belong to the caller without another copy. (Buffer#slice is a view,
 * unlike Uint8Array#slice; copy with `new Uint8Array(x)` where that matters.)
 */
export class EmbeddedKv implements KvStore {
  private closed = false;
  /** Set while reclaimSpace() swaps the file: every call waits for it. */
  private exclusive: Promise<void> | null = null;
  private writesInFlight = 0;
  private onWritesDrained: (() => void) | null = null;
  readonly batchLimits: KvBatchLimits = BATCH_LIMITS;
  /** Data files reclaimSpace has swapped in; LMDB counts transactions per file. */
  private fileEpoch = 0;

  private constructor(
    private db: RootDatabase<Buffer, Uint8Array>,
    private readonly dir: string,
    private readonly durability: EmbeddedDurability,
    /** Longest key LMDB accepts with this page size (1978 bytes by default). */
    readonly maxKeyBytes: number,
  ) {}

  static async open(dir: string, options: EmbeddedKvOptions = {}): Promise<EmbeddedKv> {
    try {
      await mkdir(dir, { recursive: true });
      // A rewrite that did not reach its rename left only a copy behind; the data file is whole.
      await rm(path.join(dir, RECLAIM_DIR), { recursive: true, force: true });
      const db = openLmdb(dir);
      return new EmbeddedKv(db, dir, options.durability ?? 'flush', maxKeySizeOf(db));
    } catch (err) {
      throw new MetricstorError('unavailable', `cannot open embedded KV in ${dir}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | null> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    this.checkKey(key);
    return this.wrap('get', () => this.db.get(key) ?? null);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    for (const key of keys) this.checkKey(key);
    return this.wrap('getMany', () => keys.map((key) => this.db.get(key) ?? null));
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    // Everything is checked before the first operation is queued: a throw inside lmdb's batch
    // callback would still commit the operations queued before it.
    checkOps(ops);
    for (const op of ops) this.checkKey(op.key);
    if (ops.length === 0) return;
    this.writesInFlight++;
    try {
      await this.batchNow(ops);
    } finally {
      this.writeDone();
    }
  }

  private async batchNow(ops: readonly KvOp[]): Promise<void> {
    await this.wrapAsync('batch', async () => {
      // lmdb runs this callback before batch() returns and copies each key as it is queued, but
      // keeps a reference to each value until the commit: values are copied so that a caller who
      // reuses its buffers cannot change what gets written. One buffer holds the copies of the
      // whole batch (thousands of small allocations cost more than the one copy).
      let valueBytes = 0;
      for (const op of ops) if (op.type === 'put') valueBytes += op.value.length;
      const copies = Buffer.allocUnsafeSlow(valueBytes);
      let at = 0;
      await this.db.batch(() => {
        for (const op of ops) {
          if (op.type === 'put') {
            const end = at + op.value.length;
            copies.set(op.value, at);
            void this.db.put(op.key, copies.subarray(at, end));
            at = end;
          } else void this.db.remove(op.key);
        }
      });
      await this.durable();
    });
  }

  async scan(range: KvRange): Promise<KvScanPage> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    checkRange(range);
    try {
      return this.readPage(range);
    } catch (err) {
      throw this.mapError('scan', err);
    }
  }

  /** All ranges in one synchronous pass: one call, one read transaction, no await per range. */
  async scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    for (const range of ranges) checkRange(range);
    try {
      return ranges.map((range) => this.readPage(range));
    } catch (err) {
      throw this.mapError('scanMany', err);
    }
  }

  private readPage(range: KvRange): KvScanPage {
    const limit = range.limit ?? DEFAULT_SCAN_LIMIT;
    const bounded = range.end.length > 0;
    if (bounded && compareBytes(range.start, range.end) >= 0) return { entries: [] };
    // One row past the limit tells whether more remain, and where to resume.
    const options: RangeOptions = { limit: limit + 1 };
    if (range.start.length > 0) options.start = range.start;
    if (bounded) options.end = range.end;
    const entries: KvEntry[] = [];
    for (const row of this.db.getRange(options)) {
      if (entries.length === limit) return { entries, next: row.key };
      entries.push({ key: row.key, value: row.value });
    }
    return { entries };
  }

  async compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    this.checkKey(key);
    this.writesInFlight++;
    try {
      return await this.compareAndSwapNow(key, expected, value);
    } finally {
      this.writeDone();
    }
  }

  private async compareAndSwapNow(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    const k = Buffer.from(key);
    const want = expected === null ? null : Buffer.from(expected);
    const next = value === null ? null : Buffer.from(value);
    return this.wrapAsync('compareAndSwap', async () => {
      const swapped = await this.db.transaction(() => {
        const current = this.db.get(k);
        const matches = current === undefined || want === null ? current === undefined && want === null : equalBytes(current, want);
        if (!matches) return false;
        if (next === null) void this.db.remove(k);
        else void this.db.put(k, next);
        return true;
      });
      if (swapped) await this.durable();
      return swapped;
    });
  }

  async close(): Promise<void> {
    if (this.exclusive !== null) await this.waitExclusive();
    if (this.closed) return;
    this.closed = true;
    await this.wrapAsync('close', () => this.db.close());
  }

  /**
   * LMDB's last committed transaction (of any process) in this file, taken after dropping the
   * current read snapshot so that the next read starts at or after it. Undefined during a swap.
   */
  writeGeneration(): string | undefined {
    if (this.closed || this.exclusive !== null) return undefined;
    this.db.resetReadTxn();
    const env = (this.db as unknown as { env: { info(): { lastTxnId: number } } }).env;
    return `${this.fileEpoch}:${env.info().lastTxnId}`;
  }

  /** The data file's size and how much of it the live tree uses (LMDB's own page counts). */
  async fileUsage(): Promise<FileUsage> {
    this.checkOpen();
    return this.wrapAsync('fileUsage', () => fileUsageOf(this.db, this.dir));
  }

  /**
   * Gives the pages LMDB holds free back to the file system. LMDB reuses freed pages but never
   * shrinks its file, so after compaction has shrunk the data (or write-ahead records and
   * rewritten open chunks have come and gone) the file stays at its high-water mark. When enough
   * of it is unused this rewrites every entry in key order into a new file (appended, so leaf
   * pages come out full) and renames it over the old one. Every call waits meanwhile, so the
   * store is briefly read- and write-locked (about a second per 100 MB of live data). Nothing is
   * rewritten while another process has the directory open. A crash before the rename leaves the old file
   * whole; the copy is removed on the next open.
   */
  async reclaimSpace(options: ReclaimOptions = {}): Promise<ReclaimSummary> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    const t0 = Date.now();
    const before = await this.fileUsage();
    const want = { ...DEFAULT_RECLAIM, ...options };
    const freeFraction = before.filePages === 0 ? 0 : 1 - before.usedPages / before.filePages;
    const usedBytes = before.usedPages * before.pageSize;
    if (before.fileBytes < want.minFileBytes || freeFraction < want.minFreeFraction || usedBytes > want.maxUsedBytes || this.openElsewhere()) {
      return { rewritten: false, before, after: before, durationMs: Date.now() - t0 };
    }
    let release!: () => void;
    this.exclusive = new Promise<void>((resolve) => (release = resolve));
    try {
      await this.writesDrained();
      await this.wrapAsync('reclaimSpace', () => this.rewriteFile());
    } finally {
      this.exclusive = null;
      release();
    }
    return { rewritten: true, before, after: await this.fileUsage(), durationMs: Date.now() - t0 };
  }

  /**
   * True when another process has the store open (it holds a slot in LMDB's reader table): that
   * process would keep using the old file after the rename, so the rewrite must not happen.
   */
  private openElsewhere(): boolean {
    this.db.readerCheck(); // clears the slots of processes that died
    for (const line of this.db.readerList().split('\n').slice(1)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) return true;
    }
    return false;
  }

  private async rewriteFile(): Promise<void> {
    await this.db.flushed;
    const copyDir = path.join(this.dir, RECLAIM_DIR);
    await rm(copyDir, { recursive: true, force: true });
    await mkdir(copyDir);
    const copy = openLmdb(copyDir);
    try {
      let after: Uint8Array | null = null;
      for (;;) {
        const options: RangeOptions = after === null ? { limit: RECLAIM_TXN_ENTRIES + 1 } : { start: after, limit: RECLAIM_TXN_ENTRIES + 1 };
        let last: Uint8Array | null = null;
        let copied = 0;
        copy.transactionSync(() => {
          for (const row of this.db.getRange(options)) {
            if (after !== null && equalBytes(row.key, after)) continue;
            if (copied === RECLAIM_TXN_ENTRIES) break;
            copy.putSync(row.key, row.value, { append: true });
            last = row.key;
            copied++;
          }
        });
        if (last === null) break;
        after = last;
        // Let timers and I/O run between transactions; every KV call waits for the swap anyway.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await copy.flushed;
    } finally {
      await copy.close();
    }
    await syncPath(path.join(copyDir, 'data.mdb'));
    await this.db.close();
    await rename(path.join(copyDir, 'data.mdb'), path.join(this.dir, 'data.mdb'));
    await syncPath(this.dir);
    await rm(copyDir, { recursive: true, force: true });
    this.db = openLmdb(this.dir);
    this.fileEpoch++;
  }

  private async waitExclusive(): Promise<void> {
    while (this.exclusive !== null) await this.exclusive;
  }

  private writeDone(): void {
    this.writesInFlight--;
    if (this.writesInFlight === 0 && this.onWritesDrained !== null) {
      const drained = this.onWritesDrained;
      this.onWritesDrained = null;
      drained();
    }
  }

  private writesDrained(): Promise<void> {
    if (this.writesInFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.onWritesDrained = resolve));
  }

  private async durable(): Promise<void> {
    if (this.durability === 'flush') await this.db.flushed;
  }

  private checkOpen(): void {
    if (this.closed) throw new MetricstorError('unavailable', 'embedded KV is closed');
  }

  private checkKey(key: Uint8Array): void {
    checkKey(key);
    if (key.length > this.maxKeyBytes) {
      throw new MetricstorError('bad_data', `KV key of ${key.length} bytes exceeds the embedded limit of ${this.maxKeyBytes}`);
    }
  }

  private wrap<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.mapError(what, err);
    }
  }

  private async wrapAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(what, err);
    }
  }

  private mapError(what: string, err: unknown): MetricstorError {
    if (isMetricstorError(err)) return err;
    return new MetricstorError('unavailable', `embedded KV ${what} failed: ${errorMessage(err)}`, { cause: err });
  }
}

function openLmdb(dir: string): RootDatabase<Buffer, Uint8Array> {
  return open<Buffer, Uint8Array>({
    path: dir,
    keyEncoding: 'binary',
    encoding: 'binary',
    // Our values are already encoded chunks; lmdb must not compress or cache them.
    compression: false,
    cache: false,
    overlappingSync: true,
    // One mapping for the life of the file. Left to grow, lmdb maps the file again at twice the
    // size and keeps every earlier mapping, so each page read is resident once per mapping.
    mapSize: MAP_SIZE_BYTES,
  });
}

async function fileUsageOf(db: RootDatabase<Buffer, Uint8Array>, dir: string): Promise<FileUsage> {
  const stats = db.getStats() as LmdbStats;
  const pages = (s: LmdbTreeStats | undefined): number =>
    s === undefined ? 0 : s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
  const file = await stat(path.join(dir, 'data.mdb'));
  return {
    fileBytes: file.blocks * 512,
    filePages: stats.lastPageNumber + 1,
    // two meta pages besides the trees
    usedPages: 2 + pages(stats) + pages(stats.free),
    pageSize: stats.pageSize,
    entries: stats.entryCount,
  };
}

interface LmdbTreeStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
  readonly entryCount: number;
}

interface LmdbStats extends LmdbTreeStats {
  readonly lastPageNumber: number;
  readonly free?: LmdbTreeStats;
}

/** fsync of a file or a directory, so that what was written or renamed there survives power loss. */
async function syncPath(p: string): Promise<void> {
  const handle = await openFile(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function maxKeySizeOf(db: Database<Buffer, Uint8Array>): number {
  const reported: unknown = (db as unknown as { maxKeySize?: unknown }).maxKeySize;
  return typeof reported === 'number' && reported > 0 ? reported : 1978;
}


import { mkdir, open as openFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { open, type Database, type RangeOptions, type RootDatabase } from 'lmdb';
import { MetricstorError, errorMessage, isMetricstorError } from '../errors.js';
import { compareBytes, equalBytes } from './bytes.js';
import type { KvBatchLimits, KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
import { LOGGED_VALUE_BYTES, TAG_INLINE, loggedRefOf, sameRef, writeLoggedValue } from './stored-value.js';
import { DEFAULT_SCAN_LIMIT, checkKey, checkOps, checkRange } from './validate.js';
import { ValueLog } from './value-log.js';

/**
 * When a write resolves:
 * - 'flush' (default): after the fsync that covers its commit, so it survives power loss.
 * - 'commit': once committed to the OS page cache; it survives a crash of the process, and after
 *   power loss the store reopens at the last flushed commit (consistent, but recent writes lost).
 * In both, a batch with bulk values waits for the fdatasync of the value log before it commits,
 * so that no commit LMDB has flushed can refer to value bytes a power loss took.
 */
export type EmbeddedDurability = 'flush' | 'commit';

export interface EmbeddedKvOptions {
  readonly durability?: EmbeddedDurability;
  /** Size at which a value log segment is sealed and the next one started (default 64 MiB). */
  readonly valueSegmentBytes?: number;
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
  /** Value log segments deleted because nothing referred to them any more. */
  readonly valueSegmentsRemoved: number;
  readonly before: FileUsage;
  readonly after: FileUsage;
  readonly durationMs: number;
}

const RECLAIM_DIR = 'reclaim';
const VALUES_DIR = 'values';
/**
 * Which way values are stored: without this file (format 1) as they are; with it (format 2) tagged,
 * bulk ones in the value log (docs/format/embedded-kv.md). A format 1 store is rewritten on open.
 */
const FORMAT_FILE = 'format';
/** Written before a format 1 store's rewritten file is renamed into place, and renamed to FORMAT_FILE after. */
const FORMAT_PENDING_FILE = 'format.pending';
const FORMAT_VERSION = '2';
/** Bulk values shorter than this stay in the tree, where a reference would take 13 bytes. */
const MIN_LOGGED_VALUE_BYTES = 64;
/** Records looked up between yields to the event loop while collecting value log segments. */
const COLLECT_SLICE_RECORDS = 4096;
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
  /** Value log segments that batches not yet committed refer to, with how many such batches. */
  private readonly pinnedSegments = new Map<number, number>();
  /** Resolves once every write call so far has been handed to lmdb; null when all have been. */
  private handedOver: Promise<void> | null = null;
  private collecting: Promise<number> | null = null;

  private constructor(
    private db: RootDatabase<Buffer, Uint8Array>,
    private readonly values: ValueLog,
    private readonly dir: string,
    private readonly durability: EmbeddedDurability,
    /** Longest key LMDB accepts with this page size (1978 bytes by default). */
    readonly maxKeyBytes: number,
  ) {}

  static async open(dir: string, options: EmbeddedKvOptions = {}): Promise<EmbeddedKv> {
    try {
      await mkdir(dir, { recursive: true });
      await settleFormat(dir);
      // A rewrite that did not reach its rename left only a copy behind; the data file is whole.
      await rm(path.join(dir, RECLAIM_DIR), { recursive: true, force: true });
      const db = openLmdb(dir);
      // A read takes a slot in LMDB's reader table, which is how other processes see this one.
      db.get(Buffer.from([0]));
      const values = ValueLog.open(path.join(dir, VALUES_DIR), options.valueSegmentBytes);
      const kv = new EmbeddedKv(db, values, dir, options.durability ?? 'flush', maxKeySizeOf(db));
      kv.collectSoon(); // segments earlier runs sealed
      return kv;
    } catch (err) {
      throw new MetricstorError('unavailable', `cannot open embedded KV in ${dir}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | null> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    this.checkKey(key);
    return this.wrap('get', () => this.valueOf(this.db.get(key)));
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    if (this.exclusive !== null) await this.waitExclusive();
    this.checkOpen();
    for (const key of keys) this.checkKey(key);
    return this.wrap('getMany', () => keys.map((key) => this.valueOf(this.db.get(key))));
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
      // Everything lmdb is given is copied first, keys included (the hand-over may wait for a value
      // log sync): a caller who reuses its buffers cannot change what gets written. Bulk values go
      // to the value log and the tree gets a reference. One buffer holds the whole batch (thousands
      // of small allocations cost more than the one copy).
      const logged: KvOp[] = [];
      let bytes = 0;
      for (const op of ops) {
        bytes += op.key.length;
        if (op.type !== 'put') continue;
        if (isLogged(op)) {
          logged.push(op);
          bytes += LOGGED_VALUE_BYTES;
        } else bytes += 1 + op.value.length;
      }
      const activeBefore = this.values.activeSegment;
      const refs = logged.length === 0 ? [] : this.values.append(logged as { key: Uint8Array; value: Uint8Array }[]);
      // A new segment sealed the one before it, which may be all garbage already.
      if (activeBefore !== null && this.values.activeSegment !== activeBefore) this.collectSoon();
      const arena = Buffer.allocUnsafeSlow(bytes);
      const keys: Buffer[] = new Array<Buffer>(ops.length);
      // null: a delete
      const values: (Buffer | null)[] = new Array<Buffer | null>(ops.length);
      let at = 0;
      let r = 0;
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        arena.set(op.key, at);
        keys[i] = arena.subarray(at, (at += op.key.length));
        values[i] = null;
        if (op.type !== 'put') continue;
        const start = at;
        if (isLogged(op)) {
          writeLoggedValue(arena, at, refs[r++]!);
          at += LOGGED_VALUE_BYTES;
        } else {
          arena[at] = TAG_INLINE;
          arena.set(op.value, at + 1);
          at += 1 + op.value.length;
        }
        values[i] = arena.subarray(start, at);
      }
      const pinned = [...new Set(refs.map((ref) => ref.segment))];
      for (const seg of pinned) this.pinnedSegments.set(seg, (this.pinnedSegments.get(seg) ?? 0) + 1);
      try {
        // The tree may refer to a logged value only once the value is durable.
        await this.handOver(refs.length === 0 ? null : this.values.sync(), () =>
          this.db.batch(() => {
            for (let i = 0; i < keys.length; i++) {
              const key = keys[i]!;
              const value = values[i];
              if (value === null || value === undefined) void this.db.remove(key);
              else void this.db.put(key, value);
            }
          }),
        );
        await this.durable();
      } finally {
        for (const seg of pinned) {
          const n = this.pinnedSegments.get(seg)! - 1;
          if (n === 0) this.pinnedSegments.delete(seg);
          else this.pinnedSegments.set(seg, n);
        }
      }
    });
  }

  /**
   * Calls `submit`, which queues writes with lmdb, after every write call made before this one has
   * queued its own and once `ready` (a value log sync) resolves: lmdb applies writes in the order
   * they are queued, so calls stay in the order they were made. Resolves with what `submit` returned.
   */
  private async handOver<T>(ready: Promise<void> | null, submit: () => Promise<T>): Promise<T> {
    const before = this.handedOver;
    if (before === null && ready === null) return submit();
    let handed!: () => void;
    const mine = new Promise<void>((resolve) => (handed = resolve));
    this.handedOver = mine;
    let result: Promise<T>;
    try {
      if (ready !== null) await ready;
      if (before !== null) await before;
      result = submit();
    } finally {
      handed();
      if (this.handedOver === mine) this.handedOver = null;
    }
    return result;
  }

  /** A value as the caller wrote it, from what the tree holds (a view of lmdb's fresh copy, or read from the value log). */
  private valueOf(stored: Buffer | undefined): Uint8Array | null {
    if (stored === undefined) return null;
    const ref = loggedRefOf(stored);
    return ref === null ? stored.subarray(1) : this.values.read(ref);
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
      entries.push({ key: row.key, value: this.valueOf(row.value)! });
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
    let next: Buffer | null = null;
    if (value !== null) {
      next = Buffer.allocUnsafeSlow(1 + value.length);
      next[0] = TAG_INLINE;
      next.set(value, 1);
    }
    return this.wrapAsync('compareAndSwap', async () => {
      const swapped = await this.handOver(null, () =>
        this.db.transaction(() => {
          const current = this.valueOf(this.db.get(k));
          const matches = current === null || want === null ? current === null && want === null : equalBytes(current, want);
          if (!matches) return false;
          if (next === null) void this.db.remove(k);
          else void this.db.put(k, next);
          return true;
        }),
      );
      if (swapped) await this.durable();
      return swapped;
    });
  }

  async close(): Promise<void> {
    if (this.exclusive !== null) await this.waitExclusive();
    if (this.closed) return;
    this.closed = true;
    await this.collecting?.catch(() => undefined);
    await this.wrapAsync('close', () => this.db.close());
    this.values.close();
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
    const valueSegmentsRemoved = await this.collectValueSegments(true);
    const before = await this.fileUsage();
    const want = { ...DEFAULT_RECLAIM, ...options };
    const freeFraction = before.filePages === 0 ? 0 : 1 - before.usedPages / before.filePages;
    const usedBytes = before.usedPages * before.pageSize;
    if (before.fileBytes < want.minFileBytes || freeFraction < want.minFreeFraction || usedBytes > want.maxUsedBytes || this.openElsewhere()) {
      return { rewritten: false, valueSegmentsRemoved, before, after: before, durationMs: Date.now() - t0 };
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
    return { rewritten: true, valueSegmentsRemoved, before, after: await this.fileUsage(), durationMs: Date.now() - t0 };
  }

  /**
   * Deletes the value log segments the tree no longer refers to: for each segment that no batch in
   * flight writes to, every record's key is looked up, and the segment goes once none of them still
   * holds that record's reference. No new reference to a sealed segment can appear, so what was
   * found dead stays dead. Runs only while no other process has the store open (it could be
   * writing to a segment this process takes for sealed). With `sealActive`, the segment being
   * written is sealed first, so that it can go too. Resolves with the segments deleted.
   */
  async collectValueSegments(sealActive = false): Promise<number> {
    // A collection under way may have listed its segments before the seal; run another after it.
    if (sealActive && this.collecting !== null) await this.collecting.catch(() => undefined);
    this.collecting ??= this.collectNow(sealActive).finally(() => (this.collecting = null));
    return this.collecting;
  }

  private collectSoon(): void {
    if (this.collecting === null) setImmediate(() => void this.collectValueSegments().catch(() => undefined));
  }

  private async collectNow(sealActive: boolean): Promise<number> {
    const usable = (): boolean => !this.closed && this.exclusive === null && !this.openElsewhere();
    if (!usable()) return 0;
    if (sealActive && this.values.activeSegment !== null && !this.pinnedSegments.has(this.values.activeSegment)) this.values.seal();
    const active = this.values.activeSegment;
    const candidates = this.values.listSegments().filter((seg) => seg !== active && !this.pinnedSegments.has(seg));
    let removed = 0;
    for (const seg of candidates) {
      let live = false;
      let looked = 0;
      for (const record of this.values.records(seg)) {
        const stored = this.db.get(record.key);
        const ref = stored === undefined ? null : loggedRefOf(stored);
        if (ref !== null && sameRef(ref, record.ref)) {
          live = true;
          break;
        }
        if (++looked % COLLECT_SLICE_RECORDS === 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (!usable()) return removed;
        }
      }
      if (live || !usable()) continue;
      this.values.remove(seg);
      removed++;
    }
    return removed;
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
    const copied = await writeCopy(this.db, this.dir, (value) => value);
    await this.db.close();
    await rename(copied, path.join(this.dir, 'data.mdb'));
    await syncPath(this.dir);
    await rm(path.join(this.dir, RECLAIM_DIR), { recursive: true, force: true });
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

function isLogged(op: KvOp): boolean {
  return op.type === 'put' && op.bulk === true && op.value.length >= MIN_LOGGED_VALUE_BYTES;
}

/**
 * Copies every entry of `from`, each value passed through `valueOf`, into a new LMDB file in
 * `dir`'s RECLAIM_DIR, in key order (appended, so its leaf pages come out full) and a few thousand
 * per transaction, yielding to the event loop between transactions. Returns the copy's data file,
 * synced to disk.
 */
async function writeCopy(from: RootDatabase<Buffer, Uint8Array>, dir: string, valueOf: (stored: Buffer) => Buffer): Promise<string> {
  const copyDir = path.join(dir, RECLAIM_DIR);
  await rm(copyDir, { recursive: true, force: true });
  await mkdir(copyDir);
  const to = openLmdb(copyDir);
  try {
    await copyEntries(from, to, valueOf);
  } finally {
    await to.close();
  }
  const file = path.join(copyDir, 'data.mdb');
  await syncPath(file);
  return file;
}

async function copyEntries(
  from: RootDatabase<Buffer, Uint8Array>,
  to: RootDatabase<Buffer, Uint8Array>,
  valueOf: (stored: Buffer) => Buffer,
): Promise<void> {
  let after: Uint8Array | null = null;
  for (;;) {
    const options: RangeOptions = after === null ? { limit: RECLAIM_TXN_ENTRIES + 1 } : { start: after, limit: RECLAIM_TXN_ENTRIES + 1 };
    let last: Uint8Array | null = null;
    let copied = 0;
    to.transactionSync(() => {
      for (const row of from.getRange(options)) {
        if (after !== null && equalBytes(row.key, after)) continue;
        if (copied === RECLAIM_TXN_ENTRIES) break;
        to.putSync(row.key, valueOf(row.value), { append: true });
        last = row.key;
        copied++;
      }
    });
    if (last === null) break;
    after = last;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await to.flushed;
}

/**
 * Brings the directory to FORMAT_VERSION: a new store is marked, a format 1 store rewritten with
 * every value tagged inline, and a rewrite that crashed is finished or started again.
 */
async function settleFormat(dir: string): Promise<void> {
  const format = await readTextOrNull(path.join(dir, FORMAT_FILE));
  if (format !== null) {
    if (format.trim() !== FORMAT_VERSION) {
      throw new MetricstorError('unavailable', `embedded KV in ${dir} has format ${format.trim()}, which this version does not read`);
    }
    return;
  }
  const pending = path.join(dir, FORMAT_PENDING_FILE);
  if (await exists(pending)) {
    // The rewritten file was renamed into place if the copy is gone.
    if (!(await exists(path.join(dir, RECLAIM_DIR, 'data.mdb')))) {
      await rename(pending, path.join(dir, FORMAT_FILE));
      await syncPath(dir);
      return;
    }
    await rm(pending);
  }
  if (!(await exists(path.join(dir, 'data.mdb')))) {
    await writeFile(path.join(dir, FORMAT_FILE), `${FORMAT_VERSION}\n`);
    await syncPath(path.join(dir, FORMAT_FILE));
    await syncPath(dir);
    return;
  }
  const old = openLmdb(dir);
  let copied: string;
  try {
    copied = await writeCopy(old, dir, (value) => {
      const tagged = Buffer.allocUnsafe(1 + value.length);
      tagged[0] = TAG_INLINE;
      tagged.set(value, 1);
      return tagged;
    });
  } finally {
    await old.close();
  }
  await writeFile(pending, `${FORMAT_VERSION}\n`);
  await syncPath(pending);
  await syncPath(dir);
  await rename(copied, path.join(dir, 'data.mdb'));
  await syncPath(dir);
  await rename(pending, path.join(dir, FORMAT_FILE));
  await syncPath(dir);
  await rm(path.join(dir, RECLAIM_DIR), { recursive: true, force: true });
}

async function readTextOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
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


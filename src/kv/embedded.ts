import { mkdir } from 'node:fs/promises';
import { open, type Database, type RangeOptions, type RootDatabase } from 'lmdb';
import { MetricstorError, errorMessage, isMetricstorError } from '../errors.js';
import { compareBytes, equalBytes } from './bytes.js';
import type { KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
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

  private constructor(
    private readonly db: RootDatabase<Buffer, Uint8Array>,
    private readonly durability: EmbeddedDurability,
    /** Longest key LMDB accepts with this page size (1978 bytes by default). */
    readonly maxKeyBytes: number,
  ) {}

  static async open(dir: string, options: EmbeddedKvOptions = {}): Promise<EmbeddedKv> {
    try {
      await mkdir(dir, { recursive: true });
      const db = open<Buffer, Uint8Array>({
        path: dir,
        keyEncoding: 'binary',
        encoding: 'binary',
        // Our values are already encoded chunks; lmdb must not compress or cache them.
        compression: false,
        cache: false,
        overlappingSync: true,
      });
      return new EmbeddedKv(db, options.durability ?? 'flush', maxKeySizeOf(db));
    } catch (err) {
      throw new MetricstorError('unavailable', `cannot open embedded KV in ${dir}: ${errorMessage(err)}`, { cause: err });
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | null> {
    this.checkOpen();
    this.checkKey(key);
    return this.wrap('get', () => this.db.get(key) ?? null);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    this.checkOpen();
    for (const key of keys) this.checkKey(key);
    return this.wrap('getMany', () => keys.map((key) => this.db.get(key) ?? null));
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    this.checkOpen();
    // Everything is checked before the first operation is queued: a throw inside lmdb's batch
    // callback would still commit the operations queued before it.
    checkOps(ops);
    for (const op of ops) this.checkKey(op.key);
    if (ops.length === 0) return;
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
    this.checkOpen();
    checkRange(range);
    const limit = range.limit ?? DEFAULT_SCAN_LIMIT;
    const bounded = range.end.length > 0;
    if (bounded && compareBytes(range.start, range.end) >= 0) return { entries: [] };
    // One row past the limit tells whether more remain, and where to resume.
    const options: RangeOptions = { limit: limit + 1 };
    if (range.start.length > 0) options.start = range.start;
    if (bounded) options.end = range.end;
    const entries: KvEntry[] = [];
    try {
      for (const row of this.db.getRange(options)) {
        if (entries.length === limit) return { entries, next: row.key };
        entries.push({ key: row.key, value: row.value });
      }
    } catch (err) {
      throw this.mapError('scan', err);
    }
    return { entries };
  }

  async compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    this.checkOpen();
    this.checkKey(key);
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
    if (this.closed) return;
    this.closed = true;
    await this.wrapAsync('close', () => this.db.close());
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

function maxKeySizeOf(db: Database<Buffer, Uint8Array>): number {
  const reported: unknown = (db as unknown as { maxKeySize?: unknown }).maxKeySize;
  return typeof reported === 'number' && reported > 0 ? reported : 1978;
}


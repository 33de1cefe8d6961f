import { MetricstorError } from '../errors.js';
import { compareBytes, copyBytes, equalBytes } from './bytes.js';
import type { KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
import { DEFAULT_SCAN_LIMIT, checkKey, checkOps, checkRange } from './validate.js';

/**
 * An in-memory KvStore for unit tests: a sorted array of entries searched by bisection. Every
 * call does its work synchronously inside one promise, so batches and CAS are trivially atomic.
 * Values are copied in and out, so callers can never alias the stored bytes.
 */
export class MemoryKv implements KvStore {
  private readonly entries: { key: Uint8Array; value: Uint8Array }[] = [];
  private unavailable = false;
  private closed = false;
  private writes = 0;

  /** While set, every call rejects with `unavailable`, as if the KV could not be reached. */
  setUnavailable(unavailable: boolean): void {
    this.unavailable = unavailable;
  }

  /** Number of keys stored; for tests. */
  get size(): number {
    return this.entries.length;
  }

  async get(key: Uint8Array): Promise<Uint8Array | null> {
    this.checkUsable();
    checkKey(key);
    const i = this.find(key);
    return i >= 0 ? copyBytes(this.entries[i]!.value) : null;
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    this.checkUsable();
    for (const key of keys) checkKey(key);
    return keys.map((key) => {
      const i = this.find(key);
      return i >= 0 ? copyBytes(this.entries[i]!.value) : null;
    });
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    this.checkUsable();
    checkOps(ops);
    for (const op of ops) {
      if (op.type === 'put') this.put(op.key, op.value);
      else this.del(op.key);
    }
  }

  async scan(range: KvRange): Promise<KvScanPage> {
    this.checkUsable();
    checkRange(range);
    const limit = range.limit ?? DEFAULT_SCAN_LIMIT;
    const unbounded = range.end.length === 0;
    const out: KvEntry[] = [];
    let i = this.lowerBound(range.start);
    for (; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!unbounded && compareBytes(e.key, range.end) >= 0) break;
      if (out.length === limit) return { entries: out, next: copyBytes(e.key) };
      out.push({ key: copyBytes(e.key), value: copyBytes(e.value) });
    }
    return { entries: out };
  }

  async scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]> {
    const pages: KvScanPage[] = [];
    for (const range of ranges) pages.push(await this.scan(range));
    return pages;
  }

  async compareAndSwap(
    key: Uint8Array,
    expected: Uint8Array | null,
    value: Uint8Array | null,
  ): Promise<boolean> {
    this.checkUsable();
    checkKey(key);
    const i = this.find(key);
    const current = i >= 0 ? this.entries[i]!.value : null;
    const matches =
      current === null || expected === null ? current === expected : equalBytes(current, expected);
    if (!matches) return false;
    if (value === null) this.del(key);
    else this.put(key, value);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  writeGeneration(): string {
    return String(this.writes);
  }

  private checkUsable(): void {
    if (this.unavailable) throw new MetricstorError('unavailable', 'memory KV is set unavailable');
    if (this.closed) throw new MetricstorError('unavailable', 'memory KV is closed');
  }

  private put(key: Uint8Array, value: Uint8Array): void {
    this.writes++;
    const i = this.lowerBound(key);
    const existing = this.entries[i];
    if (existing !== undefined && compareBytes(existing.key, key) === 0) {
      existing.value = copyBytes(value);
    } else {
      this.entries.splice(i, 0, { key: copyBytes(key), value: copyBytes(value) });
    }
  }

  private del(key: Uint8Array): void {
    this.writes++;
    const i = this.find(key);
    if (i >= 0) this.entries.splice(i, 1);
  }

  /** Index of the first entry whose key is >= `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.entries[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(key: Uint8Array): number {
    const i = this.lowerBound(key);
    const e = this.entries[i];
    return e !== undefined && compareBytes(e.key, key) === 0 ? i : -1;
  }
}

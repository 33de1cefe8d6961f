import { FlareDbClient, GrpcStatus, isFlareDbError, type FlareDbClientStats } from '@metricstor/flaredb-client';
import { LRUCache } from 'lru-cache';
import { MetricstorError, errorMessage, isMetricstorError } from '../errors.js';
import { compareBytes, equalBytes } from './bytes.js';
import type { KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
import { DEFAULT_SCAN_LIMIT, checkKey, checkOps, checkRange } from './validate.js';

/**
 * - 'strong': data goes through FlareDB's KvCas service; every write is replicated before it is
 *   acknowledged, so it survives the failure of a FlareDB node.
 * - 'eventual': data goes through KvRaw; faster, but FlareDB may acknowledge a write before it is
 *   replicated, so a node failure can lose acknowledged writes.
 */
export type FlareDbConsistency = 'strong' | 'eventual';

export interface FlareDbKvOptions {
  readonly endpoints: readonly string[];
  /** FlareDB namespace; its mode on the cluster must match `consistency`. Empty = `default`. */
  readonly namespace?: string;
  readonly consistency?: FlareDbConsistency;
  readonly tls?: { readonly caFile: string; readonly certFile?: string; readonly keyFile?: string };
  /** Deadline of each KV call, retries included (default 5000). */
  readonly timeoutMs?: number;
  /** RPCs on the wire at once for this store (default 64). */
  readonly maxInFlight?: number;
  /** RPCs one batch keeps in flight at once (default 32). */
  readonly batchConcurrency?: number;
  /** Keys whose last known version is remembered, strong mode (default 100000). */
  readonly versionCacheSize?: number;
}

const DEFAULT_BATCH_CONCURRENCY = 32;
const DEFAULT_VERSION_CACHE_SIZE = 100_000;
/** Attempts of a strong-mode put that keeps losing to concurrent writers of the same key. */
const MAX_PUT_ATTEMPTS = 16;

/**
 * KvStore on a FlareDB cluster. FlareDB has no batch RPC, so:
 *
 * **A batch is atomic per key, not as a whole.** Its operations (the last one per key) are sent as
 * separate RPCs, at most `batchConcurrency` at a time. When the batch resolves every operation has
 * been applied; when it rejects, any subset may have been applied (an invalid batch is rejected
 * before anything is sent). A crash mid-batch likewise leaves some keys written and others not.
 * Metricstor's writes are idempotent overwrites of whole keys, so a write retried after a failure
 * converges, and readers never see a torn value of one key; they can see one key of a batch
 * without another until the batch resolves.
 *
 * In strong mode a put is a CompareAndSwap on the key's version. No read precedes it: the store
 * remembers the version it last saw for each key (or assumes a new key is absent), and when that
 * guess is stale the failed CAS answers the current version, which the retry uses. A single writer
 * of a key therefore spends one RPC per put. `compareAndSwap` (by value) is a Get followed by a
 * CAS or conditional Delete on the version read, so it is atomic across every gateway.
 *
 * In eventual mode KvRaw has no conditional write: `compareAndSwap` is a RawGet and a RawPut
 * serialized per key inside this process only. It is not atomic across processes; anything that
 * coordinates gateways (leases) must use a store in strong mode.
 */
export class FlareDbKv implements KvStore {
  private closed = false;
  private readonly versions: LRUCache<string, number>;
  /** Eventual mode: keys with a compare-and-swap in progress in this process. */
  private readonly keyLocks = new Map<string, Promise<void>>();

  constructor(
    private readonly client: FlareDbClient,
    readonly consistency: FlareDbConsistency,
    private readonly batchConcurrency: number = DEFAULT_BATCH_CONCURRENCY,
    versionCacheSize: number = DEFAULT_VERSION_CACHE_SIZE,
  ) {
    this.versions = new LRUCache({ max: versionCacheSize });
  }

  static open(options: FlareDbKvOptions): FlareDbKv {
    const client = new FlareDbClient({
      endpoints: options.endpoints,
      namespace: options.namespace ?? '',
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    });
    return new FlareDbKv(
      client,
      options.consistency ?? 'strong',
      options.batchConcurrency ?? DEFAULT_BATCH_CONCURRENCY,
      options.versionCacheSize ?? DEFAULT_VERSION_CACHE_SIZE,
    );
  }

  /** RPC counters of the underlying client (calls, attempts, retries, failovers). */
  stats(): FlareDbClientStats {
    return this.client.stats();
  }

  async get(key: Uint8Array): Promise<Uint8Array | null> {
    this.checkOpen();
    checkKey(key);
    return this.wrap('get', () => this.getOne(key));
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    this.checkOpen();
    keys.forEach(checkKey);
    return this.wrap('getMany', () => Promise.all(keys.map((key) => this.getOne(key))));
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    this.checkOpen();
    checkOps(ops);
    // The last operation on each key is the one that counts; the rest need not be sent.
    const last = new Map<string, KvOp>();
    for (const op of ops) {
      const id = keyId(op.key);
      last.delete(id);
      last.set(id, op);
    }
    const pending = [...last.values()];
    await this.wrap('batch', () => runBounded(pending, this.batchConcurrency, (op) => this.apply(op)));
  }

  async scan(range: KvRange): Promise<KvScanPage> {
    this.checkOpen();
    checkRange(range);
    if (range.end.length > 0 && compareBytes(range.start, range.end) >= 0) return { entries: [] };
    const request = { start: range.start, end: range.end, limit: range.limit ?? DEFAULT_SCAN_LIMIT };
    return this.wrap('scan', async () => {
      const page = this.consistency === 'strong' ? await this.client.scan(request) : await this.client.rawScan(request);
      // Copies: the decoded arrays are views into the whole response, which a cached value would keep alive.
      const entries: KvEntry[] = page.entries.map((e) => ({ key: new Uint8Array(e.key), value: new Uint8Array(e.value) }));
      return page.nextKey === undefined ? { entries } : { entries, next: page.nextKey };
    });
  }

  async compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    this.checkOpen();
    checkKey(key);
    return this.wrap('compareAndSwap', () =>
      this.consistency === 'strong' ? this.casStrong(key, expected, value) : this.withKeyLock(key, () => this.casEventual(key, expected, value)),
    );
  }

  /** Rejects queued calls, cancels calls on the wire and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  private async getOne(key: Uint8Array): Promise<Uint8Array | null> {
    if (this.consistency === 'eventual') return this.client.rawGet(key);
    const found = await this.client.get(key);
    this.versions.set(keyId(key), found?.version ?? 0);
    return found === null ? null : found.value;
  }

  private async apply(op: KvOp): Promise<void> {
    if (this.consistency === 'eventual') {
      const lock = this.keyLocks.get(keyId(op.key));
      if (lock !== undefined) await lock;
      if (op.type === 'put') await this.client.rawPut(op.key, op.value);
      else await this.client.rawDelete(op.key);
      return;
    }
    if (op.type === 'del') {
      await this.client.delete(op.key, 0);
      this.versions.set(keyId(op.key), 0);
      return;
    }
    await this.putStrong(op.key, op.value);
  }

  /** Overwrites a key through CAS, starting from the version last seen (absent when unknown). */
  private async putStrong(key: Uint8Array, value: Uint8Array): Promise<void> {
    const id = keyId(key);
    let expected = this.versions.get(id) ?? 0;
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const res = await this.client.compareAndSwap(key, value, expected);
      if (res.success) {
        this.versions.set(id, res.newVersion);
        return;
      }
      expected = res.currentVersion;
    }
    this.versions.delete(id);
    throw new MetricstorError('unavailable', `FlareDB put lost to concurrent writers ${MAX_PUT_ATTEMPTS} times in a row`);
  }

  private async casStrong(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    const id = keyId(key);
    const current = await this.client.get(key);
    this.versions.set(id, current?.version ?? 0);
    if (!sameValue(current?.value ?? null, expected)) return false;
    if (current === null) {
      if (value === null) return true;
      const res = await this.client.compareAndSwap(key, value, 0);
      this.versions.set(id, res.success ? res.newVersion : res.currentVersion);
      return res.success;
    }
    if (value === null) {
      const res = await this.client.delete(key, current.version);
      this.versions.set(id, res.success ? 0 : res.currentVersion);
      return res.success;
    }
    const res = await this.client.compareAndSwap(key, value, current.version);
    this.versions.set(id, res.success ? res.newVersion : res.currentVersion);
    return res.success;
  }

  private async casEventual(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    const current = await this.client.rawGet(key);
    if (!sameValue(current, expected)) return false;
    if (value === null) {
      if (current !== null) await this.client.rawDelete(key);
    } else {
      await this.client.rawPut(key, value);
    }
    return true;
  }

  private async withKeyLock<T>(key: Uint8Array, fn: () => Promise<T>): Promise<T> {
    const id = keyId(key);
    for (let waits = 0; waits < 10_000; waits++) {
      const held = this.keyLocks.get(id);
      if (held === undefined) break;
      await held;
    }
    let unlock = (): void => {};
    const lock = new Promise<void>((resolve) => (unlock = resolve));
    this.keyLocks.set(id, lock);
    try {
      return await fn();
    } finally {
      this.keyLocks.delete(id);
      unlock();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new MetricstorError('unavailable', 'FlareDB KV store is closed');
  }

  private async wrap<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toMetricstorError(op, err);
    }
  }
}

/** A Map key for a byte key: one char per byte, so equal strings mean equal bytes. */
function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function sameValue(current: Uint8Array | null, expected: Uint8Array | null): boolean {
  if (current === null || expected === null) return current === null && expected === null;
  return equalBytes(current, expected);
}

/** Runs `fn` on every item with at most `limit` running at once; stops starting new ones after a failure. */
async function runBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.err;
}

function toMetricstorError(op: string, err: unknown): MetricstorError {
  if (isMetricstorError(err)) return err;
  if (isFlareDbError(err)) {
    const kvFailure =
      err.retryable || err.code === GrpcStatus.DEADLINE_EXCEEDED || err.code === GrpcStatus.CANCELLED || err.code === GrpcStatus.UNKNOWN;
    return new MetricstorError(kvFailure ? 'unavailable' : 'internal', `FlareDB ${op}: ${err.message}`, { cause: err });
  }
  return new MetricstorError('internal', `FlareDB ${op}: ${errorMessage(err)}`, { cause: err });
}

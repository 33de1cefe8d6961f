import { FlareDbClient, GrpcStatus, isFlareDbError, type FlareDbClientStats } from '@metricstor/flaredb-client';
import { LRUCache } from 'lru-cache';
import { MetricstorError, errorMessage, isMetricstorError } from '../errors.js';
import { compareBytes, equalBytes, prefixEnd } from './bytes.js';
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
  /** Name to verify in FlareDB's certificate instead of the endpoint's host. */
  readonly serverName?: string;
  /** Deadline of each KV call, retries included (default 5000). */
  readonly timeoutMs?: number;
  /** RPCs on the wire at once for this store (default 64). */
  readonly maxInFlight?: number;
  /** RPCs one batch keeps in flight at once (default 32). */
  readonly batchConcurrency?: number;
  /** Keys whose last known version is remembered, strong mode (default 100000). */
  readonly versionCacheSize?: number;
  /**
   * Eventual mode only: keys starting with one of these prefixes (leases, for example) go through
   * KvCas to `strongNamespace` instead, so compare-and-swap on them is atomic across gateways.
   */
  readonly strongPrefixes?: readonly Uint8Array[];
  /** The strong namespace for `strongPrefixes` (required with them). */
  readonly strongNamespace?: string;
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
 * CAS or conditional Delete on the version read, so it is atomic across every gateway; creating an
 * absent key (expected null) is one CAS on version 0, with no Get.
 *
 * In eventual mode KvRaw has no conditional write: `compareAndSwap` is a RawGet and a RawPut
 * serialized per key inside this process only, so it is not atomic across processes. Keys that
 * coordinate gateways (leases) belong under `strongPrefixes`: those keys live in a strong
 * namespace and every call on them goes through KvCas as above. A scan whose range covers keys of
 * both kinds reads both namespaces and merges the pages.
 *
 * **Retries and FlareDB restarts.** Each RPC is retried by the client on UNAVAILABLE within the
 * store's deadline; once every endpoint has failed in a row, the next attempt waits for a
 * connection (gRPC wait-for-ready) and sends nothing until it has one. So the first call after
 * FlareDB comes back succeeds instead of failing while the channel waits out its reconnect
 * backoff, and a FlareDB that stays down fails the call at its deadline. Retrying is harmless for
 * gets, scans, raw puts and deletes, and strong puts (a failed CAS hands back the version to retry
 * with, so the key converges on the value). A by-value `compareAndSwap` whose CAS was applied but
 * whose reply was lost answers false on its retry; the lease code re-reads its record for that.
 */
export class FlareDbKv implements KvStore {
  readonly consistency: FlareDbConsistency;
  private closed = false;
  private readonly namespace: string;
  private readonly strongNamespace: string;
  private readonly strongPrefixes: readonly Uint8Array[];
  private readonly batchConcurrency: number;
  private readonly versions: LRUCache<string, number>;
  /** Eventual mode: keys with a compare-and-swap in progress in this process. */
  private readonly keyLocks = new Map<string, Promise<void>>();

  constructor(
    private readonly client: FlareDbClient,
    options: Omit<FlareDbKvOptions, 'endpoints' | 'tls' | 'serverName' | 'timeoutMs' | 'maxInFlight'> = {},
  ) {
    this.consistency = options.consistency ?? 'strong';
    this.namespace = options.namespace ?? '';
    this.strongPrefixes = this.consistency === 'eventual' ? (options.strongPrefixes ?? []).map((p) => new Uint8Array(p)) : [];
    if (this.strongPrefixes.some((p) => p.length === 0)) throw new MetricstorError('internal', 'FlareDB strong prefixes must be non-empty');
    if (this.strongPrefixes.length > 0 && options.strongNamespace === undefined) {
      throw new MetricstorError('internal', 'FlareDB strong prefixes need a strong namespace');
    }
    this.strongNamespace = this.consistency === 'eventual' ? (options.strongNamespace ?? this.namespace) : this.namespace;
    this.batchConcurrency = options.batchConcurrency ?? DEFAULT_BATCH_CONCURRENCY;
    this.versions = new LRUCache({ max: options.versionCacheSize ?? DEFAULT_VERSION_CACHE_SIZE });
  }

  static open(options: FlareDbKvOptions): FlareDbKv {
    const client = new FlareDbClient({
      endpoints: options.endpoints,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.serverName === undefined ? {} : { serverNameOverride: options.serverName }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    });
    return new FlareDbKv(client, options);
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
    const limit = range.limit ?? DEFAULT_SCAN_LIMIT;
    return this.wrap('scan', async () => {
      const strongRanges = this.strongRangesWithin(range.start, range.end);
      if (this.consistency === 'strong' || strongRanges === 'all') return this.scanOne(true, range.start, range.end, limit);
      if (strongRanges.length === 0) return this.scanOne(false, range.start, range.end, limit);
      // Eventual keys come from the whole range: the eventual namespace holds no strong-prefix keys.
      const pages = await Promise.all([
        this.scanOne(false, range.start, range.end, limit),
        ...strongRanges.map(([start, end]) => this.scanOne(true, start, end, limit)),
      ]);
      return mergePages(pages, limit);
    });
  }

  /** One scan per range, at most `batchConcurrency` in flight: the FlareDB scan RPCs carry one range each. */
  async scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]> {
    const pages = new Array<KvScanPage>(ranges.length);
    await runBounded(
      ranges.map((range, at) => ({ range, at })),
      this.batchConcurrency,
      async ({ range, at }) => {
        pages[at] = await this.scan(range);
      },
    );
    return pages;
  }

  private async scanOne(strong: boolean, start: Uint8Array, end: Uint8Array, limit: number): Promise<KvScanPage> {
    const request = { start, end, limit };
    const page = strong
      ? await this.client.scan(request, { namespace: this.strongNamespace })
      : await this.client.rawScan(request, { namespace: this.namespace });
    // Copies: the decoded arrays are views into the whole response, which a cached value would keep alive.
    const entries: KvEntry[] = page.entries.map((e) => ({ key: new Uint8Array(e.key), value: new Uint8Array(e.value) }));
    return page.nextKey === undefined ? { entries } : { entries, next: page.nextKey };
  }

  /**
   * The parts of [start, end) under strong prefixes: 'all' when the range lies inside one prefix,
   * else the clipped prefix ranges it overlaps (none in strong mode, which has no prefixes).
   */
  private strongRangesWithin(start: Uint8Array, end: Uint8Array): 'all' | [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    for (const prefix of this.strongPrefixes) {
      const prefixStop = prefixEnd(prefix);
      const from = compareBytes(start, prefix) > 0 ? start : prefix;
      const to = minEnd(end, prefixStop);
      if (to.length > 0 && compareBytes(from, to) >= 0) continue;
      const endInside = prefixStop.length === 0 || (end.length > 0 && compareBytes(end, prefixStop) <= 0);
      if (startsWith(start, prefix) && endInside) return 'all';
      out.push([from, to]);
    }
    return out;
  }

  private isStrongKey(key: Uint8Array): boolean {
    return this.consistency === 'strong' || this.strongPrefixes.some((p) => startsWith(key, p));
  }

  async compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    this.checkOpen();
    checkKey(key);
    return this.wrap('compareAndSwap', () =>
      this.isStrongKey(key) ? this.casStrong(key, expected, value) : this.withKeyLock(key, () => this.casEventual(key, expected, value)),
    );
  }

  /** Rejects queued calls, cancels calls on the wire and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  private async getOne(key: Uint8Array): Promise<Uint8Array | null> {
    if (!this.isStrongKey(key)) return this.client.rawGet(key, { namespace: this.namespace });
    const found = await this.client.get(key, { namespace: this.strongNamespace });
    this.versions.set(keyId(key), found?.version ?? 0);
    return found === null ? null : found.value;
  }

  private async apply(op: KvOp): Promise<void> {
    if (!this.isStrongKey(op.key)) {
      const lock = this.keyLocks.get(keyId(op.key));
      if (lock !== undefined) await lock;
      const ns = { namespace: this.namespace };
      if (op.type === 'put') await this.client.rawPut(op.key, op.value, ns);
      else await this.client.rawDelete(op.key, ns);
      return;
    }
    if (op.type === 'del') {
      await this.client.delete(op.key, 0, { namespace: this.strongNamespace });
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
      const res = await this.client.compareAndSwap(key, value, expected, { namespace: this.strongNamespace });
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
    const ns = { namespace: this.strongNamespace };
    if (expected === null) {
      // Create-if-absent is a CAS on version 0 by itself; a Get first would only cost an RPC.
      if (value === null) return (await this.getOne(key)) === null;
      const res = await this.client.compareAndSwap(key, value, 0, ns);
      this.versions.set(id, res.success ? res.newVersion : res.currentVersion);
      return res.success;
    }
    const current = await this.client.get(key, ns);
    this.versions.set(id, current?.version ?? 0);
    if (current === null || !equalBytes(current.value, expected)) return false;
    if (value === null) {
      const res = await this.client.delete(key, current.version, ns);
      this.versions.set(id, res.success ? 0 : res.currentVersion);
      return res.success;
    }
    const res = await this.client.compareAndSwap(key, value, current.version, ns);
    this.versions.set(id, res.success ? res.newVersion : res.currentVersion);
    return res.success;
  }

  private async casEventual(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    const ns = { namespace: this.namespace };
    const current = await this.client.rawGet(key, ns);
    if (!sameValue(current, expected)) return false;
    if (value === null) {
      if (current !== null) await this.client.rawDelete(key, ns);
    } else {
      await this.client.rawPut(key, value, ns);
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

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/** The lower of two exclusive ends, where empty means unbounded. */
function minEnd(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return compareBytes(a, b) <= 0 ? a : b;
}

/**
 * One page from pages of disjoint key sets over the same range. Below the lowest `next` of the
 * inputs every entry is known; the merged page stops there, or at `limit` entries.
 */
function mergePages(pages: readonly KvScanPage[], limit: number): KvScanPage {
  let bound: Uint8Array | undefined;
  for (const p of pages) if (p.next !== undefined && (bound === undefined || compareBytes(p.next, bound) < 0)) bound = p.next;
  const known = pages
    .flatMap((p) => p.entries)
    .filter((e) => bound === undefined || compareBytes(e.key, bound) < 0)
    .sort((x, y) => compareBytes(x.key, y.key));
  if (known.length > limit) return { entries: known.slice(0, limit), next: known[limit]!.key };
  return bound === undefined ? { entries: known } : { entries: known, next: bound };
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

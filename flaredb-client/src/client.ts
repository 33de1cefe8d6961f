import {
  Metadata,
  status,
  type CallOptions as GrpcCallOptions,
  type ChannelOptions,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { FlareDbError, errorMessage, grpcCodeOf } from './errors.js';
import {
  KvCasClient,
  KvRawClient,
  type CasRequest,
  type CasResponse,
  type DeleteRequest,
  type DeleteResponse,
  type GetRequest,
  type GetResponse,
  type RawDeleteRequest,
  type RawDeleteResponse,
  type RawGetRequest,
  type RawGetResponse,
  type RawPutRequest,
  type RawPutResponse,
  type RawScanRequest,
  type RawScanResponse,
  type ScanRequest,
  type ScanResponse,
} from './generated/flaredb/kvrpc.js';
import { InFlightLimiter } from './limiter.js';
import { DEFAULT_BACKOFF, backoffDelayMs, sleep, type BackoffOptions } from './retry.js';
import { clientCredentials, type ClientTlsFiles } from './tls.js';

export interface KeepaliveOptions {
  /** Ping the server after this long without activity on a connection. */
  readonly timeMs?: number;
  /** Drop the connection when a ping is not answered within this. */
  readonly timeoutMs?: number;
  /** Ping also while no call is running. */
  readonly permitWithoutCalls?: boolean;
}

export interface FlareDbClientOptions {
  /** host:port of each FlareDB node; calls go to one and move to the next when it is unavailable. */
  readonly endpoints: readonly string[];
  /** Namespace for calls that name none; empty means the server's `default`. */
  readonly namespace?: string;
  /** TLS (and mTLS when a cert and key are given); plaintext without. */
  readonly tls?: ClientTlsFiles;
  /** Name to verify in the server certificate instead of the endpoint's host. */
  readonly serverNameOverride?: string;
  /** Deadline of a call, queueing and retries included (default 5000). */
  readonly timeoutMs?: number;
  /** Attempts per call, the first included (default 5). */
  readonly maxAttempts?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** RPCs on the wire at once; further calls queue (default 64). */
  readonly maxInFlight?: number;
  readonly keepalive?: KeepaliveOptions;
  /** Longest wait between reconnection attempts to a node that went away (default 2000). */
  readonly reconnectBackoffMaxMs?: number;
  /** Source of jitter, uniform in [0, 1); for tests. */
  readonly random?: () => number;
}

export interface FlareDbCallOptions {
  readonly namespace?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ScanRange {
  /** Inclusive. */
  readonly start: Uint8Array;
  /** Exclusive; empty or absent means no upper bound. */
  readonly end?: Uint8Array;
  /** Entries per page; 0 or absent lets the server choose (100). */
  readonly limit?: number;
}

export interface RawEntry {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface VersionedEntry extends RawEntry {
  readonly version: number;
}

export interface ScanPage<E> {
  readonly entries: E[];
  /** Where the next page starts (inclusive), present when more entries may remain. */
  readonly nextKey?: Buffer;
}

export interface VersionedValue {
  readonly value: Buffer;
  readonly version: number;
}

export interface CasResult {
  readonly success: boolean;
  /** The key's version before the call; 0 when it was absent. */
  readonly currentVersion: number;
  /** The key's version after a successful write. */
  readonly newVersion: number;
}

export interface DeleteResult {
  readonly success: boolean;
  readonly existed: boolean;
  readonly currentVersion: number;
}

export interface FlareDbClientStats {
  /** Calls made through the public methods. */
  readonly calls: number;
  /** RPCs sent; more than `calls` when some were retried. */
  readonly attempts: number;
  readonly retries: number;
  /** Moves to another endpoint after one answered UNAVAILABLE. */
  readonly failovers: number;
  readonly inFlight: number;
  readonly queued: number;
}

interface EndpointStubs {
  readonly address: string;
  readonly raw: KvRawClient;
  readonly cas: KvCasClient;
}

type Callback<Res> = (err: ServiceError | null, res: Res) => void;
type Invoke<Req, Res> = (
  stubs: EndpointStubs,
  req: Req,
  metadata: Metadata,
  options: Partial<GrpcCallOptions>,
  callback: Callback<Res>,
) => ClientUnaryCall;

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_MAX_IN_FLIGHT = 64;
const DEFAULT_RECONNECT_BACKOFF_MAX_MS = 2000;
const EMPTY = Buffer.alloc(0);

/**
 * A client for FlareDB's KvRaw (eventual namespaces) and KvCas (strong namespaces) services.
 *
 * Every call has a deadline that covers its time in the queue, all attempts and the waits between
 * them. A call that fails with a retryable code (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED) is tried
 * again; after UNAVAILABLE the client moves to the next endpoint at once, and waits (capped
 * exponential backoff with jitter) only once every endpoint has failed in a row. A call that runs
 * out of time is not retried, but later calls start at the next endpoint, so a node that stopped
 * answering without closing its connections costs one deadline, not one per call. The endpoint
 * that answered last stays the current one for later calls.
 *
 * A retried write may have been applied by the attempt that failed: raw puts and deletes are
 * idempotent, but a CAS whose first attempt landed reports failure on its retry.
 */
export class FlareDbClient {
  private readonly stubs: EndpointStubs[];
  private readonly namespace: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly limiter: InFlightLimiter;
  private readonly active = new Set<ClientUnaryCall>();
  private current = 0;
  private closed = false;
  private counts = { calls: 0, attempts: 0, retries: 0, failovers: 0 };

  constructor(options: FlareDbClientOptions) {
    if (options.endpoints.length === 0) throw new RangeError('FlareDbClient needs at least one endpoint');
    this.namespace = options.namespace ?? '';
    this.timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.maxAttempts = positive(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 'maxAttempts');
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.limiter = new InFlightLimiter(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    const creds = clientCredentials(options.tls);
    const channelOptions = channelOptionsOf(options);
    this.stubs = options.endpoints.map((address) => {
      const raw = new KvRawClient(address, creds, channelOptions);
      const cas = new KvCasClient(address, creds, { ...channelOptions, channelOverride: raw.getChannel() });
      return { address, raw, cas };
    });
  }

  get endpoints(): readonly string[] {
    return this.stubs.map((s) => s.address);
  }

  /** The endpoint the next call goes to first. */
  get currentEndpoint(): string {
    return this.stubs[this.current]!.address;
  }

  stats(): FlareDbClientStats {
    return { ...this.counts, inFlight: this.limiter.inFlight, queued: this.limiter.queued };
  }

  // --- KvRaw: eventual namespaces ---

  async rawPut(key: Uint8Array, value: Uint8Array, options: FlareDbCallOptions = {}): Promise<void> {
    const res = await this.call<RawPutRequest, RawPutResponse>(
      'RawPut',
      { key: buf(key), value: buf(value), namespace: this.ns(options) },
      options,
      (s, r, m, o, cb) => s.raw.rawPut(r, m, o, cb),
    );
    if (!res.success) throw new FlareDbError(status.ABORTED, 'RawPut: the server did not apply the put');
  }

  async rawGet(key: Uint8Array, options: FlareDbCallOptions = {}): Promise<Buffer | null> {
    const res = await this.call<RawGetRequest, RawGetResponse>(
      'RawGet', { key: buf(key), namespace: this.ns(options) }, options, (s, r, m, o, cb) =>
      s.raw.rawGet(r, m, o, cb),
    );
    return res.found ? res.value : null;
  }

  /** Deletes a key; resolves with whether it existed. */
  async rawDelete(key: Uint8Array, options: FlareDbCallOptions = {}): Promise<boolean> {
    const res = await this.call<RawDeleteRequest, RawDeleteResponse>(
      'RawDelete', { key: buf(key), namespace: this.ns(options) }, options, (s, r, m, o, cb) =>
      s.raw.rawDelete(r, m, o, cb),
    );
    if (!res.success) throw new FlareDbError(status.ABORTED, 'RawDelete: the server did not apply the delete');
    return res.existed;
  }

  async rawScan(range: ScanRange, options: FlareDbCallOptions = {}): Promise<ScanPage<RawEntry>> {
    const res = await this.call<RawScanRequest, RawScanResponse>(
      'RawScan', this.scanRequest(range, options), options, (s, r, m, o, cb) =>
      s.raw.rawScan(r, m, o, cb),
    );
    if (res.keys.length !== res.values.length) {
      throw new FlareDbError(status.INTERNAL, `RawScan: ${res.keys.length} keys but ${res.values.length} values`);
    }
    const entries = res.keys.map((key, i) => ({ key, value: res.values[i]! }));
    return pageOf(entries, res.hasMore, res.nextKey, range);
  }

  /** Every entry of the range, page by page; each page is its own call with its own deadline. */
  rawScanAll(range: ScanRange, options: FlareDbCallOptions = {}): AsyncGenerator<RawEntry> {
    return paginate(range, (r) => this.rawScan(r, options));
  }

  // --- KvCas: strong namespaces ---

  /** Writes `value` if the key's version is `expectedVersion` (0: only if the key is absent). */
  async compareAndSwap(
    key: Uint8Array,
    value: Uint8Array,
    expectedVersion: number,
    options: FlareDbCallOptions = {},
  ): Promise<CasResult> {
    const res = await this.call<CasRequest, CasResponse>(
      'CompareAndSwap',
      { key: buf(key), value: buf(value), expectedVersion, namespace: this.ns(options) },
      options,
      (s, r, m, o, cb) => s.cas.compareAndSwap(r, m, o, cb),
    );
    return { success: res.success, currentVersion: res.currentVersion, newVersion: res.newVersion };
  }

  async get(key: Uint8Array, options: FlareDbCallOptions = {}): Promise<VersionedValue | null> {
    const res = await this.call<GetRequest, GetResponse>(
      'Get', { key: buf(key), namespace: this.ns(options) }, options, (s, r, m, o, cb) =>
      s.cas.get(r, m, o, cb),
    );
    return res.found ? { value: res.value, version: res.version } : null;
  }

  /** Deletes a key; with `expectedVersion` > 0 only if the key has that version. */
  async delete(key: Uint8Array, expectedVersion = 0, options: FlareDbCallOptions = {}): Promise<DeleteResult> {
    const res = await this.call<DeleteRequest, DeleteResponse>(
      'Delete',
      { key: buf(key), expectedVersion, namespace: this.ns(options) },
      options,
      (s, r, m, o, cb) => s.cas.delete(r, m, o, cb),
    );
    return { success: res.success, existed: res.existed, currentVersion: res.currentVersion };
  }

  async scan(range: ScanRange, options: FlareDbCallOptions = {}): Promise<ScanPage<VersionedEntry>> {
    const res = await this.call<ScanRequest, ScanResponse>(
      'Scan', this.scanRequest(range, options), options, (s, r, m, o, cb) =>
      s.cas.scan(r, m, o, cb),
    );
    if (res.keys.length !== res.values.length || res.keys.length !== res.versions.length) {
      throw new FlareDbError(
        status.INTERNAL,
        `Scan: ${res.keys.length} keys, ${res.values.length} values, ${res.versions.length} versions`,
      );
    }
    const entries = res.keys.map((key, i) => ({ key, value: res.values[i]!, version: res.versions[i]! }));
    return pageOf(entries, res.hasMore, res.nextKey, range);
  }

  scanAll(range: ScanRange, options: FlareDbCallOptions = {}): AsyncGenerator<VersionedEntry> {
    return paginate(range, (r) => this.scan(r, options));
  }

  /**
   * Rejects queued calls and cancels those on the wire (both fail with CANCELLED), then closes the
   * channels. Later calls fail at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.limiter.rejectWaiting(new FlareDbError(status.CANCELLED, 'FlareDB client closed'));
    for (const call of [...this.active]) call.cancel();
    for (const stubs of this.stubs) stubs.raw.close();
  }

  private ns(options: FlareDbCallOptions): string {
    return options.namespace ?? this.namespace;
  }

  private scanRequest(range: ScanRange, options: FlareDbCallOptions): ScanRequest & RawScanRequest {
    const limit = range.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || limit > 0xffffffff) throw new RangeError(`bad scan limit ${limit}`);
    return {
      startKey: buf(range.start),
      endKey: range.end === undefined ? EMPTY : buf(range.end),
      limit,
      namespace: this.ns(options),
    };
  }

  private async call<Req, Res>(method: string, req: Req, options: FlareDbCallOptions, invoke: Invoke<Req, Res>): Promise<Res> {
    if (this.closed) throw new FlareDbError(status.CANCELLED, `${method}: FlareDB client closed`);
    this.counts.calls++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const deadlineMs = Date.now() + timeoutMs;
    // A call that gets a slot at once and succeeds never waits, so its timer is made only when
    // it has to wait (for a slot or before a retry); the RPC itself carries gRPC's deadline.
    const waits = new CallWaits(deadlineMs, options.signal);
    if (options.signal?.aborted === true) throw this.abortError(method, options.signal.reason, false, timeoutMs);
    let retry = 0;
    let failoversInRow = 0;
    /** The UNAVAILABLE failure after which attempts wait for a connection; null while they need not. */
    let unconnected: FlareDbError | null = null;
    for (let attempt = 1; ; attempt++) {
      const release =
        this.limiter.tryAcquire() ??
        (await this.limiter.acquire(waits.signal()).catch((err: unknown) => {
          throw this.abortError(method, err, waits.timedOut(), timeoutMs);
        }));
      const index = this.current;
      const stubs = this.stubs[index]!;
      let failure: FlareDbError;
      try {
        this.counts.attempts++;
        return await this.attempt(stubs, req, deadlineMs, unconnected !== null, options.signal, invoke);
      } catch (err) {
        const code = grpcCodeOf(err);
        // A call that waited for a connection until its deadline: the earlier error says why there was none.
        const why = unconnected !== null && code === status.DEADLINE_EXCEEDED ? ` (no connection since: ${unconnected.message})` : '';
        failure = new FlareDbError(code, `${method} on ${stubs.address}: ${grpcDetails(err)}${why}`, {
          cause: err,
          endpoint: stubs.address,
        });
      } finally {
        release();
      }
      if (failure.code === status.DEADLINE_EXCEEDED) this.rotateFrom(index);
      if (this.closed || !failure.retryable || attempt >= this.maxAttempts) throw failure;
      let backOff = true;
      if (failure.code === status.UNAVAILABLE && this.stubs.length > 1) {
        this.rotateFrom(index);
        // Wait only once every endpoint has answered UNAVAILABLE in a row.
        failoversInRow++;
        backOff = failoversInRow >= this.stubs.length;
        if (backOff) failoversInRow = 0;
      }
      // Every endpoint failed UNAVAILABLE in a row: usually no connection, and a channel waiting out
      // its reconnect backoff fails calls at once even when the node is back. The next attempt waits
      // for its channel to connect, within the deadline; until then nothing of it is sent.
      unconnected = backOff && failure.code === status.UNAVAILABLE ? failure : null;
      const waitMs = backOff ? backoffDelayMs(this.backoff, retry++, this.random) : 0;
      if (Date.now() + waitMs >= deadlineMs) throw failure;
      this.counts.retries++;
      if (waitMs > 0) {
        await sleep(waitMs, waits.signal()).catch((err: unknown) => {
          throw waits.timedOut() ? failure : this.abortError(method, err, waits.timedOut(), timeoutMs);
        });
      }
    }
  }

  /** Makes the endpoint after `index` the current one, unless another call already moved on. */
  private rotateFrom(index: number): void {
    if (this.stubs.length < 2 || this.current !== index) return;
    this.current = (index + 1) % this.stubs.length;
    this.counts.failovers++;
  }

  /**
   * One RPC; the caller's signal cancels it (the deadline is gRPC's own). With `waitForReady` gRPC
   * holds it until the channel is connected instead of failing it while there is no connection.
   */
  private attempt<Req, Res>(
    stubs: EndpointStubs,
    req: Req,
    deadlineMs: number,
    waitForReady: boolean,
    signal: AbortSignal | undefined,
    invoke: Invoke<Req, Res>,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const cancel = (): void => call.cancel();
      const metadata = waitForReady ? new Metadata({ waitForReady: true }) : new Metadata();
      const call = invoke(stubs, req, metadata, { deadline: deadlineMs }, (err, res) => {
        this.active.delete(call);
        signal?.removeEventListener('abort', cancel);
        if (err !== null) reject(err);
        else resolve(res);
      });
      this.active.add(call);
      if (signal?.aborted === true) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  private abortError(method: string, err: unknown, timedOut: boolean, timeoutMs: number): FlareDbError {
    if (err instanceof FlareDbError) return err;
    if (timedOut) return new FlareDbError(status.DEADLINE_EXCEEDED, `${method}: deadline of ${timeoutMs}ms exceeded`);
    return new FlareDbError(status.CANCELLED, `${method}: cancelled: ${errorMessage(err)}`, { cause: err });
  }
}

/** The abort signal a call's waits use (its deadline, and the caller's signal), made on first use. */
class CallWaits {
  private timeout: AbortSignal | undefined;
  private combined: AbortSignal | undefined;

  constructor(
    private readonly deadlineMs: number,
    private readonly callerSignal: AbortSignal | undefined,
  ) {}

  signal(): AbortSignal {
    if (this.combined !== undefined) return this.combined;
    this.timeout = AbortSignal.timeout(Math.max(0, this.deadlineMs - Date.now()));
    this.combined = this.callerSignal === undefined ? this.timeout : AbortSignal.any([this.timeout, this.callerSignal]);
    return this.combined;
  }

  /** Whether the deadline has passed (by the timer once there is one, else by the clock). */
  timedOut(): boolean {
    return this.timeout === undefined ? Date.now() >= this.deadlineMs : this.timeout.aborted;
  }
}

function channelOptionsOf(options: FlareDbClientOptions): ChannelOptions {
  const out: ChannelOptions = {
    'grpc.max_reconnect_backoff_ms': options.reconnectBackoffMaxMs ?? DEFAULT_RECONNECT_BACKOFF_MAX_MS,
    'grpc.initial_reconnect_backoff_ms': Math.min(200, options.reconnectBackoffMaxMs ?? DEFAULT_RECONNECT_BACKOFF_MAX_MS),
    // Our own retry loop decides about retries; grpc-js must not retry underneath it.
    'grpc.enable_retries': 0,
    // Each client gets its own connections, so closing it cannot affect another client.
    'grpc.use_local_subchannel_pool': 1,
    // Scan pages of large values may pass gRPC's default 4 MiB.
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // Channelz bookkeeping is work on every call, and nothing here reads it.
    'grpc.enable_channelz': 0,
  };
  const keepalive = options.keepalive;
  if (keepalive?.timeMs !== undefined) out['grpc.keepalive_time_ms'] = keepalive.timeMs;
  if (keepalive?.timeoutMs !== undefined) out['grpc.keepalive_timeout_ms'] = keepalive.timeoutMs;
  if (keepalive?.permitWithoutCalls !== undefined) out['grpc.keepalive_permit_without_calls'] = keepalive.permitWithoutCalls ? 1 : 0;
  if (options.serverNameOverride !== undefined) out['grpc.ssl_target_name_override'] = options.serverNameOverride;
  return out;
}

function pageOf<E>(entries: E[], hasMore: boolean, nextKey: Buffer, range: ScanRange): ScanPage<E> {
  if (!hasMore) return { entries };
  if (nextKey.length === 0 || Buffer.compare(nextKey, buf(range.start)) <= 0) {
    throw new FlareDbError(status.INTERNAL, 'scan: has_more without a next_key past the start key');
  }
  return { entries, nextKey };
}

async function* paginate<E>(range: ScanRange, page: (range: ScanRange) => Promise<ScanPage<E>>): AsyncGenerator<E> {
  let start = range.start;
  for (;;) {
    const res = await page({ ...range, start });
    yield* res.entries;
    if (res.nextKey === undefined) return;
    start = res.nextKey;
  }
}

function buf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function grpcDetails(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'details' in err && typeof err.details === 'string' && err.details !== '') {
    return err.details;
  }
  return errorMessage(err);
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be positive, got ${n}`);
  return n;
}

import type Koa from 'koa';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { IngestObserver, IngestProtocol } from '../ingest/http.js';
import type { KvCallObserver, KvOperation } from '../kv/instrumented.js';

/** What the storage reports when metrics are scraped (Storage.runtimeStats). */
export interface StorageStatsSource {
  runtimeStats(): {
    readonly chunkCacheHits: number;
    readonly chunkCacheMisses: number;
    readonly chunkCacheBytes: number;
    readonly openChunks: number;
    readonly seriesCreated: number;
  };
  /** Counters of the file write-ahead log (Storage.walCounters); null when the log is in the KV. */
  readonly walCounters: {
    readonly syncs: number;
    readonly records: number;
    readonly bytes: number;
    readonly segmentsCreated: number;
  } | null;
}

/** What the maintenance scheduler reports when metrics are scraped. */
export interface MaintenanceStatusSource {
  status(): readonly { readonly name: string; readonly runs: number; readonly failures: number; readonly leaseHeld: boolean }[];
}

const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REQUEST_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The server's own metrics on a registry the composition root owns. Other modules see only the
 * observer interfaces (KvCallObserver, IngestObserver) and the sources read at scrape time.
 */
export class ServerMetrics implements KvCallObserver, IngestObserver {
  readonly registry: Registry;
  private readonly ingested: Counter<'protocol'>;
  private readonly rejectedSamples: Counter<'protocol' | 'reason'>;
  private readonly ingestRequests: Counter<'protocol' | 'outcome'>;
  private readonly httpRequests: Counter<'endpoint' | 'code'>;
  private readonly httpDuration: Histogram<'endpoint'>;
  private readonly kvDuration: Histogram<'operation'>;
  private readonly kvErrors: Counter<'operation'>;
  private storage: StorageStatsSource | undefined;
  private maintenance: MaintenanceStatusSource | undefined;
  private walCountersRegistered = false;

  constructor(registry: Registry) {
    this.registry = registry;
    const registers = [registry];
    this.ingested = new Counter({ name: 'metricstor_ingested_samples_total', help: 'Samples written by remote write and import.', labelNames: ['protocol'], registers });
    this.rejectedSamples = new Counter({ name: 'metricstor_rejected_samples_total', help: 'Samples of refused ingest requests, by error type (0 counted when a request failed before decoding).', labelNames: ['protocol', 'reason'], registers });
    this.ingestRequests = new Counter({ name: 'metricstor_ingest_requests_total', help: 'Ingest requests by outcome (accepted, or the error type).', labelNames: ['protocol', 'outcome'], registers });
    this.httpRequests = new Counter({ name: 'metricstor_http_requests_total', help: 'HTTP requests by endpoint and status code.', labelNames: ['endpoint', 'code'], registers });
    this.httpDuration = new Histogram({ name: 'metricstor_http_request_duration_seconds', help: 'HTTP request durations by endpoint (queries included).', labelNames: ['endpoint'], buckets: REQUEST_BUCKETS_SECONDS, registers });
    this.kvDuration = new Histogram({ name: 'metricstor_kv_call_duration_seconds', help: 'KV call latency by operation.', labelNames: ['operation'], buckets: LATENCY_BUCKETS_SECONDS, registers });
    this.kvErrors = new Counter({ name: 'metricstor_kv_call_errors_total', help: 'KV calls that failed, by operation.', labelNames: ['operation'], registers });

    const stats = (): ReturnType<StorageStatsSource['runtimeStats']> | undefined => this.storage?.runtimeStats();
    pulledCounter(registry, 'metricstor_chunk_cache_hits_total', 'Chunk reads answered by the decoded-chunk cache.', () => stats()?.chunkCacheHits);
    pulledCounter(registry, 'metricstor_chunk_cache_misses_total', 'Chunk reads the decoded-chunk cache could not answer.', () => stats()?.chunkCacheMisses);
    pulledCounter(registry, 'metricstor_series_created_total', 'Series this process added to the index.', () => stats()?.seriesCreated);
    pulledGauge(registry, 'metricstor_chunk_cache_bytes', 'Bytes held by the decoded-chunk cache.', () => stats()?.chunkCacheBytes);
    pulledGauge(registry, 'metricstor_open_chunks', 'Chunks in this writer\'s head still taking samples.', () => stats()?.openChunks);

    const jobs = (): ReturnType<MaintenanceStatusSource['status']> => this.maintenance?.status() ?? [];
    new Counter({
      name: 'metricstor_maintenance_runs_total',
      help: 'Maintenance job runs on this node (retention, compaction), failed ones included.',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const j of jobs()) this.inc({ job: j.name }, j.runs);
      },
    });
    new Counter({
      name: 'metricstor_maintenance_failures_total',
      help: 'Maintenance job runs that failed.',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const j of jobs()) this.inc({ job: j.name }, j.failures);
      },
    });
    new Gauge({
      name: 'metricstor_maintenance_lease_held',
      help: '1 when this node holds the job\'s lease.',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const j of jobs()) this.set({ job: j.name }, j.leaseHeld ? 1 : 0);
      },
    });
  }

  /** Storage and maintenance are read at scrape time once they exist. */
  watch(sources: { storage?: StorageStatsSource; maintenance?: MaintenanceStatusSource }): void {
    if (sources.storage !== undefined) this.storage = sources.storage;
    if (sources.maintenance !== undefined) this.maintenance = sources.maintenance;
    if ((this.storage?.walCounters ?? null) !== null) this.registerWalCounters();
  }

  /**
   * Only a storage with a file write-ahead log has these, so they are registered once one is
   * watched: with the FlareDB backend they are absent from /metrics rather than stuck at 0.
   */
  private registerWalCounters(): void {
    if (this.walCountersRegistered) return;
    this.walCountersRegistered = true;
    const wal = (): StorageStatsSource['walCounters'] | undefined => this.storage?.walCounters;
    pulledCounter(this.registry, 'metricstor_wal_syncs_total', 'Group writes of the write-ahead log, one writev and one fdatasync each.', () => wal()?.syncs);
    pulledCounter(this.registry, 'metricstor_wal_records_total', 'Records written to the write-ahead log.', () => wal()?.records);
    pulledCounter(this.registry, 'metricstor_wal_bytes_total', 'Bytes written to the write-ahead log, framing included.', () => wal()?.bytes);
    pulledCounter(this.registry, 'metricstor_wal_segments_created_total', 'Write-ahead log segment files created.', () => wal()?.segmentsCreated);
  }

  kvCall(operation: KvOperation, durationSeconds: number, failed: boolean): void {
    this.kvDuration.observe({ operation }, durationSeconds);
    if (failed) this.kvErrors.inc({ operation });
  }

  accepted(protocol: IngestProtocol, samples: number): void {
    this.ingested.inc({ protocol }, samples);
    this.ingestRequests.inc({ protocol, outcome: 'accepted' });
  }

  rejected(protocol: IngestProtocol, reason: string, samples: number): void {
    this.rejectedSamples.inc({ protocol, reason }, samples);
    this.ingestRequests.inc({ protocol, outcome: reason });
  }

  /** Answers GET /metrics in the text format; passes every other request on. */
  endpoint(): Koa.Middleware {
    return async (ctx, next) => {
      if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
      ctx.type = this.registry.contentType;
      ctx.body = await this.registry.metrics();
    };
  }

  /** Outermost middleware: counts and times every request by endpoint and final status code. */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      const start = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const endpoint = endpointOf(ctx.path, ctx.status);
        this.httpRequests.inc({ endpoint, code: String(ctx.status) });
        this.httpDuration.observe({ endpoint }, Number(process.hrtime.bigint() - start) / 1e9);
      }
    };
  }
}

/** A route-shaped label with bounded cardinality: path parameters folded, unknown paths as one value. */
export function endpointOf(path: string, status: number): string {
  if (status === 404 || status === 405) return 'other';
  if (/^\/api\/v1\/label\/[^/]+\/values$/.test(path)) return '/api/v1/label/:name/values';
  if (path.startsWith('/assets/')) return '/assets/:file';
  if (path === '/' || path === '/metrics') return path;
  if (/^\/api\/v1\/[a-z_/]{1,40}$/.test(path) || /^\/-\/[a-z]{1,20}$/.test(path) || path === '/federate') return path;
  return 'other';
}

function pulledCounter(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      const v = read();
      if (v !== undefined) this.inc(v);
    },
  });
}

function pulledGauge(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v !== undefined) this.set(v);
    },
  });
}

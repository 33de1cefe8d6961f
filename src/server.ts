/**
 * The composition root: builds KV → storage → engine → HTTP in dependency order and tears them
 * down in reverse. Nothing else in the code base creates these parts for production use.
 */
import path from 'node:path';
import { Registry } from 'prom-client';
import YAML from 'yaml';
import type { ApiDeps, PromqlText } from './api/deps.js';
import { buildApp, listen } from './api/server.js';
import { openServerSecurity, type ServerSecurity } from './api/auth-setup.js';
import { QueryGate } from './api/query-gate.js';
import type { Config } from './config/config.js';
import { MetricstorError } from './errors.js';
import { DecodePool, defaultDecodeWorkers } from './ingest/decode-workers/pool.js';
import { importHandler, remoteWriteHandler, type IngestDeps } from './ingest/http.js';
import { ingestLimits } from './ingest/limits.js';
import { DEFAULT_WRITE_QUEUE, WriteQueue } from './ingest/write-queue.js';
import type { KvStore } from './kv/kv.js';
import { InstrumentedKv } from './kv/instrumented.js';
import { createLogger, type Logger } from './observability/logger.js';
import { ServerMetrics } from './observability/metrics.js';
import { startSelfIngest } from './observability/self-ingest.js';
import { EmbeddedKv, openKv, type OpenKvOptions, type ReclaimOptions } from './kv/index.js';
import { startGrpcServer } from './grpc/server.js';
import { remoteReadHandler } from './remote-read/handler.js';
import { PromqlEngine } from './promql/engine/engine.js';
import { formatExpr, parseDuration, parseExpr, parseSeriesSelector } from './promql/parser/index.js';
import { cachedParser } from './promql/parser/parse-cache.js';
import { MAX_POINTS_PER_SERIES } from './api/params.js';
import { Storage } from './storage/index.js';
import { persistentWriterId } from './storage/writer-id.js';
import { NS_LEASE } from './storage/keys.js';
import { compactNow } from './storage/maintenance/compact-now.js';
import { CompactionJob } from './storage/maintenance/compaction.js';
import { RetentionJob } from './storage/maintenance/retention.js';
import { MaintenanceScheduler, type MaintenanceJob } from './storage/maintenance/scheduler.js';

/** The Prometheus version whose API Metricstor follows; Grafana enables features by it. */
export const PROMETHEUS_API_VERSION = '2.42.0';
export const METRICSTOR_VERSION = '0.1.0';

export interface RunningServer {
  /** host:port of the HTTP listener as bound. */
  readonly httpAddress: string;
  /** host:port of the gRPC listener as bound. */
  readonly grpcAddress: string;
  readonly storage: Storage;
  /** Retention and compaction, run on whichever node holds each job's lease. */
  readonly maintenance: MaintenanceScheduler;
  /** Stops accepting, finishes in-flight requests, stops maintenance, then closes storage and the KV. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Where the server's own metrics live; a fresh registry when absent (never prom-client's global one). */
  readonly registry?: Registry;
  /** JSON lines on stdout at config.server.logLevel when absent. */
  readonly logger?: Logger;
}

const DAY_MS = 86_400_000;

export const PROMQL_TEXT: PromqlText = {
  parseExpr,
  parseSeriesSelector,
  formatExpr,
  parseDurationMs: parseDuration,
};

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const startTimeMs = Date.now();
  const retentionMs = config.storage.retentionDays * DAY_MS;
  const logger = options.logger ?? createLogger({ level: config.server.logLevel });
  const metrics = new ServerMetrics(options.registry ?? new Registry());
  const backendKv = await openKv(kvOptions(config));
  const kv: KvStore = new InstrumentedKv(backendKv, metrics);
  // The embedded file can give the space compaction freed back to the file system.
  const reclaimSpace = backendKv instanceof EmbeddedKv ? (o?: ReclaimOptions) => backendKv.reclaimSpace(o) : undefined;
  let selfIngest: { stop(): Promise<void> } | undefined;
  let storage: Storage | undefined;
  let maintenance: MaintenanceScheduler | undefined;
  let security: ServerSecurity | undefined;
  let decodePool: DecodePool | undefined;
  try {
    security = await openServerSecurity(config.server, (level, message) => logger[level](message));
    storage = await Storage.open(kv, {
      headFlush:
        config.storage.headFlushIntervalMs > 0 ? { intervalMs: config.storage.headFlushIntervalMs } : 'write-through',
      retentionMs,
      chunkCacheBytes: config.storage.chunkCacheBytes,
      // One embedded node owns its data directory: it stays the same writer across restarts and
      // keeps its write-ahead records in segment files there rather than in the KV.
      ...(config.storage.backend === 'embedded'
        ? { writerId: await persistentWriterId(config.storage.dataDir), walDir: path.join(config.storage.dataDir, 'wal') }
        : {}),
      ...(config.storage.leaseTtlMs === undefined ? {} : { writerLeaseTtlMs: config.storage.leaseTtlMs }),
      ...(config.storage.orphanCheckMs === undefined ? {} : { orphanCheckMs: config.storage.orphanCheckMs }),
    });
    const replay = storage.walReplay;
    if (replay !== null && replay.segments > 0) {
      const { tornTail, ...found } = replay;
      logger[tornTail === null ? 'info' : 'warn']('write-ahead log replayed', { ...found, ...(tornTail === null ? {} : { tornTail }) });
    }
    const engine = new PromqlEngine(storage, {
      parse: cachedParser(parseExpr),
      limits: {
        lookbackDeltaMs: config.query.lookbackDeltaMs,
        timeoutMs: config.query.timeoutMs,
        maxSamples: config.query.maxSamples,
        // The API enforces Prometheus's cap of 11,000 steps, which allows 11,001 points.
        maxPointsPerSeries: MAX_POINTS_PER_SERIES + 1,
      },
    });
    const { maxFormBodyBytes: _queryApiLimit, ...ingestLimitSettings } = config.limits;
    const limits = ingestLimits(ingestLimitSettings);
    const queue = new WriteQueue({ ...DEFAULT_WRITE_QUEUE, maxConcurrent: config.ingest.maxConcurrency, maxWaiting: config.ingest.maxQueue });
    const decodeWorkers = config.ingest.decodeWorkers ?? defaultDecodeWorkers();
    decodePool = decodeWorkers > 0 ? new DecodePool(decodeWorkers) : undefined;
    const ingest: IngestDeps = { storage, limits, queue, observer: metrics, ...(decodePool === undefined ? {} : { decodePool }) };
    const deps: ApiDeps = {
      storage,
      engine,
      promql: PROMQL_TEXT,
      info: {
        version: PROMETHEUS_API_VERSION,
        revision: `metricstor-${METRICSTOR_VERSION}`,
        startTimeMs,
        configYaml: YAML.stringify(config),
        flags: flagsOf(config),
        storageRetention: `${config.storage.retentionDays}d`,
      },
      queryTimeoutMs: config.query.timeoutMs,
      queryGate: new QueryGate({
        maxConcurrency: config.query.maxConcurrency,
        maxQueue: config.query.maxQueue,
        maxWaitMs: config.query.timeoutMs,
      }),
      maxFormBodyBytes: config.limits.maxFormBodyBytes,
      ingest: { remoteWrite: remoteWriteHandler(ingest), importPrometheus: importHandler(ingest) },
      remoteRead: remoteReadHandler(storage),
      compactNow: compactNowOf(kv, storage, reclaimSpace, () => maintenance),
      logError: (message) => logger.error('request failed', { error: message }),
      nowMs: Date.now,
    };
    const holderId = `writer-${storage.writerId.toString(16)}`;
    const jobInterval = config.storage.maintenanceIntervalMs === undefined ? {} : { intervalMs: config.storage.maintenanceIntervalMs };
    maintenance = new MaintenanceScheduler({
      kv,
      holderId,
      jobs: [
        new RetentionJob({ kv, retentionMs, ...jobInterval }),
        new CompactionJob({
          kv,
          ...jobInterval,
          ...(reclaimSpace === undefined ? {} : { reclaimSpace: () => reclaimSpace({ maxUsedBytes: SCHEDULED_RECLAIM_MAX_USED_BYTES }) }),
        }),
      ].map((job) => loggingRuns(job, holderId, logger)),
      ...(config.storage.leaseTtlMs === undefined ? {} : { leaseTtlMs: config.storage.leaseTtlMs }),
    });
    metrics.watch({ storage, maintenance });
    const appOptions = {
      outermost: metrics.middleware(),
      beforeRoutes: metrics.endpoint(),
      ...(security.guard ? { guard: security.guard } : {}),
    };
    const http = await listen(buildApp(deps, appOptions), config.server.httpAddr, security.tls);
    const grpcAccess = {
      ...(security.policy === undefined ? {} : { policy: security.policy }),
      ...(security.credentials === undefined ? {} : { credentials: security.credentials }),
    };
    const grpc = await startGrpcServer(deps, config.server.grpcAddr, {
      ...(security.tls === undefined ? {} : { tls: security.tls }),
      ...(security.policy === undefined && security.credentials === undefined ? {} : { access: grpcAccess }),
    }).catch(async (err: unknown) => {
      await http.close();
      throw err;
    });
    maintenance.start();
    if (config.selfMonitoring.ingestIntervalMs > 0) {
      selfIngest = startSelfIngest({
        registry: metrics.registry,
        storage,
        limits,
        intervalMs: config.selfMonitoring.ingestIntervalMs,
        instance: http.address,
        logger,
      });
    }
    logger.info('listening', { http: http.address, grpc: grpc.address, tls: security.tls !== undefined, backend: config.storage.backend });
    const openedSelfIngest = selfIngest;
    const opened = storage;
    const scheduler = maintenance;
    const openedSecurity = security;
    const openedDecodePool = decodePool;
    let closing: Promise<void> | undefined;
    return {
      httpAddress: http.address,
      grpcAddress: grpc.address,
      storage: opened,
      maintenance: scheduler,
      close: () => {
        closing ??= (async () => {
          logger.info('stopping');
          try {
            await openedSelfIngest?.stop();
            await Promise.all([http.close(), grpc.close()]);
          } finally {
            openedSecurity.close();
            await openedDecodePool?.close();
            try {
              await scheduler.stop();
              await opened.close();
            } finally {
              await kv.close();
              logger.info('stopped');
            }
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await selfIngest?.stop();
    security?.close();
    await decodePool?.close();
    await maintenance?.stop().catch(() => undefined);
    await storage?.close().catch(() => undefined);
    await kv.close().catch(() => undefined);
    throw err;
  }
}

/** The KV the config asks for; leases stay in a strong namespace whatever the data's consistency. */
function kvOptions(config: Config): OpenKvOptions {
  const backend = config.storage.backend ?? 'embedded';
  const flaredb = config.storage.flaredb;
  if (backend !== 'flaredb' || flaredb === undefined) return { backend, dataDir: config.storage.dataDir };
  return {
    backend,
    dataDir: config.storage.dataDir,
    flaredb: {
      endpoints: flaredb.endpoints ?? [],
      strongPrefixes: [Uint8Array.of(NS_LEASE)],
      ...(flaredb.namespace === undefined ? {} : { namespace: flaredb.namespace }),
      ...(flaredb.consistency === undefined ? {} : { consistency: flaredb.consistency }),
      ...(flaredb.leaseNamespace === undefined ? {} : { leaseNamespace: flaredb.leaseNamespace }),
      ...(flaredb.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: flaredb.requestTimeoutMs }),
      ...(flaredb.tls === undefined ? {} : { tls: flaredb.tls }),
      ...(flaredb.serverName === undefined ? {} : { serverName: flaredb.serverName }),
    },
  };
}

/**
 * Writes one JSON log line per finished maintenance run, so operators (and the scale-out tests)
 * can see which gateway holds each job's lease.
 */
function loggingRuns(job: MaintenanceJob, holderId: string, logger: Logger): MaintenanceJob {
  return {
    name: job.name,
    intervalMs: job.intervalMs,
    run: async (ctx) => {
      const startMs = Date.now();
      try {
        const summary = await job.run(ctx);
        logger.info('maintenance run', { job: job.name, holder: holderId, outcome: 'ok', durationMs: Date.now() - startMs, summary });
        return summary;
      } catch (err) {
        logger.error('maintenance run', { job: job.name, holder: holderId, outcome: 'error', durationMs: Date.now() - startMs, error: err });
        throw err;
      }
    },
  };
}

/**
 * The scheduled compaction rewrites the embedded file only while its live pages take at most this
 * much, so that no scheduled run holds the KV for more than about ten seconds; larger stores
 * reclaim on request (POST /api/v1/admin/tsdb/compact).
 */
const SCHEDULED_RECLAIM_MAX_USED_BYTES = 1024 * 1024 * 1024;

/**
 * POST /api/v1/admin/tsdb/compact: compaction now under the compaction lease, then any file space
 * worth a rewrite given back.
 */
function compactNowOf(
  kv: KvStore,
  storage: Storage,
  reclaimSpace: ((o?: ReclaimOptions) => Promise<unknown>) | undefined,
  scheduler: () => MaintenanceScheduler | undefined,
): () => Promise<unknown> {
  return async () => {
    const maintenance = scheduler();
    if (maintenance === undefined) throw new MetricstorError('unavailable', 'maintenance has not started yet');
    return maintenance.runNow('compaction', (ctx) =>
      compactNow(
        {
          kv,
          closeOpenChunks: () => storage.closeOpenChunks(),
          ...(reclaimSpace === undefined
            ? {}
            : { reclaimSpace: (windowsRewritten: boolean) => reclaimSpace({ minFileBytes: 0, minFreeFraction: windowsRewritten ? 0 : 0.25 }) }),
        },
        Date.now(),
        ctx.shouldContinue,
      ),
    );
  };
}

/** Settings under the names of the Prometheus flags they correspond to. */
function flagsOf(config: Config): Record<string, string> {
  return {
    'web.listen-address': config.server.httpAddr,
    'storage.tsdb.path': config.storage.dataDir,
    'storage.tsdb.retention.time': `${config.storage.retentionDays}d`,
    'query.lookback-delta': promDuration(config.query.lookbackDeltaMs),
    'query.timeout': promDuration(config.query.timeoutMs),
    'query.max-samples': String(config.query.maxSamples),
  };
}

/** Milliseconds as Prometheus prints a duration: 5m, 1h30m, 500ms. */
export function promDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: [string, number][] = [
    ['y', 365 * DAY_MS],
    ['w', 7 * DAY_MS],
    ['d', DAY_MS],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

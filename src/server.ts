/**
 * The composition root: builds KV → storage → engine → HTTP in dependency order and tears them
 * down in reverse. Nothing else in the code base creates these parts for production use.
 */
import YAML from 'yaml';
import type { ApiDeps, PromqlText } from './api/deps.js';
import { buildApp, listen } from './api/server.js';
import { openServerSecurity, type ServerSecurity } from './api/auth-setup.js';
import type { Config } from './config/config.js';
import { importHandler, remoteWriteHandler, type IngestDeps } from './ingest/http.js';
import { ingestLimits } from './ingest/limits.js';
import { WriteQueue } from './ingest/write-queue.js';
import type { KvStore } from './kv/kv.js';
import { openKv } from './kv/index.js';
import { startGrpcServer } from './grpc/server.js';
import { remoteReadHandler } from './remote-read/handler.js';
import { PromqlEngine } from './promql/engine/engine.js';
import { formatExpr, parseDuration, parseExpr, parseSeriesSelector } from './promql/parser/index.js';
import { MAX_POINTS_PER_SERIES } from './api/params.js';
import { Storage } from './storage/index.js';
import { CompactionJob } from './storage/maintenance/compaction.js';
import { RetentionJob } from './storage/maintenance/retention.js';
import { MaintenanceScheduler } from './storage/maintenance/scheduler.js';

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

const DAY_MS = 86_400_000;

export const PROMQL_TEXT: PromqlText = {
  parseExpr,
  parseSeriesSelector,
  formatExpr,
  parseDurationMs: parseDuration,
};

export async function startServer(config: Config): Promise<RunningServer> {
  const startTimeMs = Date.now();
  const retentionMs = config.storage.retentionDays * DAY_MS;
  const kv: KvStore = await openKv({ backend: 'embedded', dataDir: config.storage.dataDir });
  let storage: Storage | undefined;
  let maintenance: MaintenanceScheduler | undefined;
  let security: ServerSecurity | undefined;
  try {
    security = await openServerSecurity(config.server);
    storage = await Storage.open(kv, {
      headFlush:
        config.storage.headFlushIntervalMs > 0 ? { intervalMs: config.storage.headFlushIntervalMs } : 'write-through',
      retentionMs,
    });
    const engine = new PromqlEngine(storage, {
      parse: parseExpr,
      limits: {
        lookbackDeltaMs: config.query.lookbackDeltaMs,
        timeoutMs: config.query.timeoutMs,
        maxSamples: config.query.maxSamples,
        // The API enforces Prometheus's cap of 11,000 steps, which allows 11,001 points.
        maxPointsPerSeries: MAX_POINTS_PER_SERIES + 1,
      },
    });
    const ingest: IngestDeps = { storage, limits: ingestLimits(), queue: new WriteQueue() };
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
      maxFormBodyBytes: config.limits.maxFormBodyBytes,
      ingest: { remoteWrite: remoteWriteHandler(ingest), importPrometheus: importHandler(ingest) },
      remoteRead: remoteReadHandler(storage),
      nowMs: Date.now,
    };
    maintenance = new MaintenanceScheduler({
      kv,
      holderId: `writer-${storage.writerId.toString(16)}`,
      jobs: [new RetentionJob({ kv, retentionMs }), new CompactionJob({ kv })],
    });
    const http = await listen(buildApp(deps, security.guard ? { guard: security.guard } : {}), config.server.httpAddr, security.tls);
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
    const opened = storage;
    const scheduler = maintenance;
    const openedSecurity = security;
    let closing: Promise<void> | undefined;
    return {
      httpAddress: http.address,
      grpcAddress: grpc.address,
      storage: opened,
      maintenance: scheduler,
      close: () => {
        closing ??= (async () => {
          try {
            await Promise.all([http.close(), grpc.close()]);
          } finally {
            openedSecurity.close();
            try {
              await scheduler.stop();
              await opened.close();
            } finally {
              await kv.close();
            }
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    security?.close();
    await maintenance?.stop().catch(() => undefined);
    await storage?.close().catch(() => undefined);
    await kv.close().catch(() => undefined);
    throw err;
  }
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

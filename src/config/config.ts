import { badData } from '../errors.js';

/** The server's settings. The full YAML/flags loader arrives with the operations work. */
export interface Config {
  readonly server: {
    /** host:port of the HTTP listener. */
    readonly httpAddr: string;
    /** host:port of the gRPC listener. */
    readonly grpcAddr: string;
  };
  readonly storage: {
    readonly dataDir: string;
    readonly retentionDays: number;
    /** How open chunks reach the KV: 0 = write-through, else buffered and flushed at this interval. */
    readonly headFlushIntervalMs: number;
  };
  readonly query: {
    readonly lookbackDeltaMs: number;
    /** A query's deadline; a request's `timeout` parameter can only shorten it. */
    readonly timeoutMs: number;
    /** Most samples one query may hold in memory. */
    readonly maxSamples: number;
  };
  readonly limits: {
    /** Largest form-encoded request body accepted by the query API. */
    readonly maxFormBodyBytes: number;
  };
}

export const DEFAULT_CONFIG: Config = {
  server: { httpAddr: '127.0.0.1:9101', grpcAddr: '127.0.0.1:9102' },
  storage: { dataDir: './data', retentionDays: 15, headFlushIntervalMs: 0 },
  query: { lookbackDeltaMs: 5 * 60_000, timeoutMs: 2 * 60_000, maxSamples: 50_000_000 },
  limits: { maxFormBodyBytes: 4 * 1024 * 1024 },
};

/** Applies METRICSTOR_* environment overrides to a config. */
export function applyEnv(config: Config, env: NodeJS.ProcessEnv): Config {
  const retention = env['METRICSTOR_RETENTION_DAYS'];
  return {
    ...config,
    server: {
      httpAddr: env['METRICSTOR_HTTP_ADDR'] ?? config.server.httpAddr,
      grpcAddr: env['METRICSTOR_GRPC_ADDR'] ?? config.server.grpcAddr,
    },
    storage: {
      ...config.storage,
      dataDir: env['METRICSTOR_DATA_DIR'] ?? config.storage.dataDir,
      retentionDays: retention === undefined ? config.storage.retentionDays : parsePositive(retention, 'METRICSTOR_RETENTION_DAYS'),
    },
  };
}

function parsePositive(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw badData(`${what} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

/** Splits "host:port" (or "[v6]:port") into its parts. */
export function parseHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw badData(`invalid address ${JSON.stringify(addr)}: want host:port`);
  return { host: m[1] ?? m[2] ?? '', port };
}

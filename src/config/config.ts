import { badData } from '../errors.js';

/**
 * The platform's TlsConfig shape (YAML: cert_file, key_file, ca_file, require_client_cert).
 * A server presents cert/key and checks clients against the CA; a client checks the server
 * against the CA and presents cert/key when both are given (mTLS).
 */
export interface TlsConfig {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
  /** Server side: refuse the handshake of a client without a certificate signed by caFile. */
  readonly requireClientCert?: boolean;
}

/** The listeners' TLS, with access lists by client identity (YAML: server.tls). */
export interface ServerTlsConfig extends TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /**
   * Identities (subject CN, SAN DNS or URI; `*` matches any run of characters) allowed to write:
   * remote write, import and the admin endpoints. Absent: any certificate signed by the CA.
   */
  readonly allowedWriters?: readonly string[];
  /** Identities allowed on every other route except the health probes. Absent: any verified certificate. */
  readonly allowedReaders?: readonly string[];
}

/** Credentials for deployments without mTLS (YAML: server.auth). Either one admits a request. */
export interface AuthConfig {
  /** A file of accepted bearer tokens, one a line; re-read when it changes. */
  readonly bearerTokenFile?: string;
  /** A file of `user:sha256:<hex>` or `user:scrypt:<salt hex>:<key hex>` lines; re-read when it changes. */
  readonly basicAuthUsersFile?: string;
}

/** The FlareDB backend's connection settings (YAML: storage.flaredb). */
export interface FlareDbConfig {
  readonly endpoints: readonly string[];
  /** mTLS towards FlareDB; plaintext when absent. */
  readonly tls?: TlsConfig;
  /** Name to verify in FlareDB's certificate instead of the endpoint's host. */
  readonly serverName?: string;
}

/** The server's settings. The full YAML/flags loader arrives with the operations work. */
export interface Config {
  readonly server: {
    /** host:port of the HTTP listener. */
    readonly httpAddr: string;
    /** host:port of the gRPC listener. */
    readonly grpcAddr: string;
    /** HTTPS and gRPC over TLS when present. */
    readonly tls?: ServerTlsConfig;
    readonly auth?: AuthConfig;
  };
  readonly storage: {
    readonly dataDir: string;
    readonly retentionDays: number;
    /** How open chunks reach the KV: 0 = write-through, else buffered and flushed at this interval. */
    readonly headFlushIntervalMs: number;
    /** Where the FlareDB backend is, when it is used. */
    readonly flaredb?: FlareDbConfig;
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
      ...config.server,
      httpAddr: env['METRICSTOR_HTTP_ADDR'] ?? config.server.httpAddr,
      grpcAddr: env['METRICSTOR_GRPC_ADDR'] ?? config.server.grpcAddr,
      ...tlsFromEnv(config.server.tls, env),
    },
    storage: {
      ...config.storage,
      dataDir: env['METRICSTOR_DATA_DIR'] ?? config.storage.dataDir,
      retentionDays: retention === undefined ? config.storage.retentionDays : parsePositive(retention, 'METRICSTOR_RETENTION_DAYS'),
    },
  };
}

/**
 * METRICSTOR_TLS_CERT_FILE and METRICSTOR_TLS_KEY_FILE (together) turn TLS on;
 * METRICSTOR_TLS_CA_FILE and METRICSTOR_TLS_REQUIRE_CLIENT_CERT=true add client checks.
 */
function tlsFromEnv(tls: ServerTlsConfig | undefined, env: NodeJS.ProcessEnv): { tls?: ServerTlsConfig } {
  const certFile = env['METRICSTOR_TLS_CERT_FILE'] ?? tls?.certFile;
  const keyFile = env['METRICSTOR_TLS_KEY_FILE'] ?? tls?.keyFile;
  const caFile = env['METRICSTOR_TLS_CA_FILE'] ?? tls?.caFile;
  const require = env['METRICSTOR_TLS_REQUIRE_CLIENT_CERT'];
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined || require !== undefined) throw badData('TLS: a CA or client-certificate setting needs a certificate and key');
    return {};
  }
  if (certFile === undefined || keyFile === undefined) throw badData('TLS: the certificate and key files go together');
  if (require !== undefined && require !== 'true' && require !== 'false') {
    throw badData(`METRICSTOR_TLS_REQUIRE_CLIENT_CERT must be true or false, got ${JSON.stringify(require)}`);
  }
  const requireClientCert = require === undefined ? tls?.requireClientCert : require === 'true';
  return {
    tls: {
      ...tls,
      certFile,
      keyFile,
      ...(caFile === undefined ? {} : { caFile }),
      ...(requireClientCert === undefined ? {} : { requireClientCert }),
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

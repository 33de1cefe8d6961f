import { loadConfig } from './load.js';

export { parseHostPort } from './host-port.js';

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
  /** FlareDB namespace of the data; `metricstor` when absent. */
  readonly namespace?: string;
  /** strong (when absent): KvCas; eventual: KvRaw, weaker durability. */
  readonly consistency?: 'strong' | 'eventual';
  /** Strong namespace for the leases; required with eventual consistency. */
  readonly leaseNamespace?: string;
  /** Deadline of one KV call, retries included; 5000 when absent. */
  readonly requestTimeoutMs?: number;
  /** mTLS towards FlareDB; plaintext when absent. */
  readonly tls?: TlsConfig;
  /** Name to verify in FlareDB's certificate instead of the endpoint's host. */
  readonly serverName?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StorageBackend = 'embedded' | 'flaredb' | 'memory';

/**
 * The server's settings. Each field is filled from one row of SETTINGS (schema.ts), which names
 * its YAML key, environment variable, flag, default and documentation.
 */
export interface Config {
  readonly server: {
    /** host:port of the HTTP listener. */
    readonly httpAddr: string;
    /** host:port of the gRPC listener. */
    readonly grpcAddr: string;
    readonly logLevel: LogLevel;
    /** Percent the V8 heap may grow past its last full collection's live size; 0 leaves it to V8. */
    readonly heapGrowthPercent: number;
    /** HTTPS and gRPC over TLS when present. */
    readonly tls?: ServerTlsConfig;
    readonly auth?: AuthConfig;
  };
  readonly storage: {
    readonly backend: StorageBackend;
    readonly dataDir: string;
    readonly retentionDays: number;
    /** How open chunks reach the KV: 0 = write-through, else buffered and flushed at this interval. */
    readonly headFlushIntervalMs: number;
    /** Byte budget of the decoded-chunk cache; 0 disables it. */
    readonly chunkCacheBytes: number;
    /** TTL of the writer and maintenance leases. */
    readonly leaseTtlMs: number;
    /** Buffered policy: how often to look for dead writers' write-ahead records. */
    readonly orphanCheckMs: number;
    /** Time between retention and compaction runs. */
    readonly maintenanceIntervalMs: number;
    /** Where the FlareDB backend is, when it is used. */
    readonly flaredb?: FlareDbConfig;
  };
  readonly query: {
    readonly lookbackDeltaMs: number;
    /** A query's deadline; a request's `timeout` parameter can only shorten it. */
    readonly timeoutMs: number;
    /** Most samples one query may hold in memory. */
    readonly maxSamples: number;
    /** Most queries evaluated at once. */
    readonly maxConcurrency: number;
    /** Most queries waiting for a slot; beyond it 503 with Retry-After. */
    readonly maxQueue: number;
  };
  /** The line in front of storage for remote write and import. */
  readonly ingest: {
    /** Most writes running against storage at once. */
    readonly maxConcurrency: number;
    /** Most writes waiting for a slot; beyond it 429 with Retry-After. */
    readonly maxQueue: number;
    /** Remote write decode threads; 0: the event loop decodes; unset: one per core, at most 4. */
    readonly decodeWorkers?: number;
  };
  /** Request limits: the query API's form bodies, and the ingest limits (see IngestLimits). */
  readonly limits: {
    /** Largest form-encoded request body accepted by the query API. */
    readonly maxFormBodyBytes: number;
    readonly maxBodyBytes: number;
    readonly maxDecodedBytes: number;
    readonly maxSeriesPerRequest: number;
    readonly maxSamplesPerRequest: number;
    readonly maxLabelsPerSeries: number;
    readonly maxLabelNameLength: number;
    readonly maxLabelValueLength: number;
  };
  readonly selfMonitoring: {
    /** 0 = off; else the server appends its own metrics to its storage at this interval. */
    readonly ingestIntervalMs: number;
  };
}

/** Every setting at its built-in default. */
export const DEFAULT_CONFIG: Config = loadConfig({});

/** The defaults with METRICSTOR_* environment overrides applied (no file, no flags). */
export function configFromEnv(env: NodeJS.ProcessEnv): Config {
  return loadConfig({ env });
}

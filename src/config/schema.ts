import { DEFAULT_INGEST_LIMITS } from '../ingest/limits.js';
import { DEFAULT_WRITE_QUEUE } from '../ingest/write-queue.js';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { parseHostPort } from './host-port.js';

/** How a setting's value is written and checked. Durations are held in milliseconds. */
export type SettingType = 'string' | 'address' | 'file' | 'duration' | 'integer' | 'number' | 'boolean' | 'list' | 'enum';

/**
 * One setting: its YAML key (snake_case path), the Config field it fills (camelCase path), its
 * type and default, the environment variable that overrides it, and what it does. The command-line
 * flag is derived from the key (flagOf). Everything that reads, checks or documents settings
 * goes through this table.
 */
export interface Setting {
  readonly key: string;
  readonly field: string;
  readonly type: SettingType;
  /** In the Config's units (milliseconds for durations); absent = unset unless given. */
  readonly default?: string | number | boolean | readonly string[];
  readonly env?: string;
  readonly description: string;
  /** enum: the accepted words. */
  readonly values?: readonly string[];
  /** integer / number / duration: the smallest accepted value. */
  readonly min?: number;
  /** number: the value must be strictly above `min`. */
  readonly exclusiveMin?: boolean;
}

const MIB = 1024 * 1024;
const positiveInt = { type: 'integer', min: 1 } as const;

export const SETTINGS: readonly Setting[] = [
  // server
  { key: 'server.http_addr', field: 'server.httpAddr', type: 'address', default: '127.0.0.1:9101', env: 'METRICSTOR_HTTP_ADDR', description: 'host:port of the HTTP listener (API, remote write, /metrics).' },
  { key: 'server.grpc_addr', field: 'server.grpcAddr', type: 'address', default: '127.0.0.1:9102', env: 'METRICSTOR_GRPC_ADDR', description: 'host:port of the gRPC listener.' },
  { key: 'server.log_level', field: 'server.logLevel', type: 'enum', values: ['debug', 'info', 'warn', 'error'], default: 'info', env: 'METRICSTOR_LOG_LEVEL', description: 'Least severe level written to the JSON log on stdout.' },
  { key: 'server.heap_growth_percent', field: 'server.heapGrowthPercent', type: 'integer', min: 0, default: 50, env: 'METRICSTOR_HEAP_GROWTH_PERCENT', description: 'How far the JavaScript heap may grow past what its last full collection kept, in percent, before it is collected again; 0: V8 chooses (up to 300 %). Lower holds less memory during ingest for more collections.' },
  { key: 'server.tls.cert_file', field: 'server.tls.certFile', type: 'file', env: 'METRICSTOR_TLS_CERT_FILE', description: 'PEM certificate of the HTTP and gRPC listeners; with key_file, turns TLS on.' },
  { key: 'server.tls.key_file', field: 'server.tls.keyFile', type: 'file', env: 'METRICSTOR_TLS_KEY_FILE', description: 'PEM private key matching cert_file.' },
  { key: 'server.tls.ca_file', field: 'server.tls.caFile', type: 'file', env: 'METRICSTOR_TLS_CA_FILE', description: 'PEM CA bundle that client certificates are checked against.' },
  { key: 'server.tls.require_client_cert', field: 'server.tls.requireClientCert', type: 'boolean', env: 'METRICSTOR_TLS_REQUIRE_CLIENT_CERT', description: 'Refuse clients without a certificate signed by ca_file (mTLS).' },
  { key: 'server.tls.allowed_writers', field: 'server.tls.allowedWriters', type: 'list', description: 'Client identities (CN, SAN DNS or URI; `*` wildcards) allowed to write and use admin endpoints. Unset: any verified client.' },
  { key: 'server.tls.allowed_readers', field: 'server.tls.allowedReaders', type: 'list', description: 'Client identities allowed on read routes. Unset: any verified client.' },
  { key: 'server.auth.bearer_token_file', field: 'server.auth.bearerTokenFile', type: 'file', env: 'METRICSTOR_AUTH_BEARER_TOKEN_FILE', description: 'File of accepted bearer tokens, one a line; re-read when it changes.' },
  { key: 'server.auth.basic_auth_users_file', field: 'server.auth.basicAuthUsersFile', type: 'file', env: 'METRICSTOR_AUTH_BASIC_AUTH_USERS_FILE', description: 'File of `user:sha256:<hex>` or `user:scrypt:<salt>:<key>` lines; re-read when it changes.' },
  // storage
  { key: 'storage.backend', field: 'storage.backend', type: 'enum', values: ['embedded', 'flaredb', 'memory'], default: 'embedded', env: 'METRICSTOR_STORAGE_BACKEND', description: 'KV backend: the embedded LMDB store under data_dir, FlareDB, or memory (tests only; nothing survives a restart).' },
  { key: 'storage.data_dir', field: 'storage.dataDir', type: 'string', default: './data', env: 'METRICSTOR_DATA_DIR', description: 'Directory of the embedded store (in its `kv` subdirectory).' },
  { key: 'storage.retention_days', field: 'storage.retentionDays', type: 'number', min: 0, exclusiveMin: true, default: 15, env: 'METRICSTOR_RETENTION_DAYS', description: 'Samples older than this many days are deleted by the retention job.' },
  { key: 'storage.head_flush_interval', field: 'storage.headFlushIntervalMs', type: 'duration', min: 0, default: 10_000, env: 'METRICSTOR_HEAD_FLUSH_INTERVAL', description: 'Open chunks are buffered (each write goes to a write-ahead record) and flushed at this interval. 0: every write goes through to the KV as whole chunks, for several gateways that must each see every write at once (docs/adr/0002-default-head-policy.md).' },
  { key: 'storage.chunk_cache_bytes', field: 'storage.chunkCacheBytes', type: 'integer', min: 0, default: 64 * MIB, env: 'METRICSTOR_CHUNK_CACHE_BYTES', description: 'Byte budget of the decoded-chunk cache; 0 disables it.' },
  { key: 'storage.lease_ttl', field: 'storage.leaseTtlMs', type: 'duration', min: 1, default: 60_000, env: 'METRICSTOR_LEASE_TTL', description: 'Lifetime of the writer lease and the maintenance job leases without renewal; renewed every third of it.' },
  { key: 'storage.orphan_check_interval', field: 'storage.orphanCheckMs', type: 'duration', min: 0, default: 60_000, env: 'METRICSTOR_ORPHAN_CHECK_INTERVAL', description: 'How often to look for write-ahead records of writers that stopped (buffered head flush); 0: only at start.' },
  { key: 'storage.maintenance_interval', field: 'storage.maintenanceIntervalMs', type: 'duration', min: 1, default: 3_600_000, env: 'METRICSTOR_MAINTENANCE_INTERVAL', description: 'Time between retention runs and between compaction runs (on the node holding each job\'s lease).' },
  { key: 'storage.flaredb.endpoints', field: 'storage.flaredb.endpoints', type: 'list', env: 'METRICSTOR_FLAREDB_ENDPOINTS', description: 'FlareDB endpoints (host:port); the environment variable takes a comma-separated list.' },
  { key: 'storage.flaredb.namespace', field: 'storage.flaredb.namespace', type: 'string', env: 'METRICSTOR_FLAREDB_NAMESPACE', description: 'FlareDB namespace of the data; its mode on the cluster must match consistency. Unset: `metricstor`.' },
  { key: 'storage.flaredb.consistency', field: 'storage.flaredb.consistency', type: 'enum', values: ['strong', 'eventual'], env: 'METRICSTOR_FLAREDB_CONSISTENCY', description: 'strong (when unset): compare-and-swap API; eventual: raw API, weaker durability, needs lease_namespace.' },
  { key: 'storage.flaredb.lease_namespace', field: 'storage.flaredb.leaseNamespace', type: 'string', env: 'METRICSTOR_FLAREDB_LEASE_NAMESPACE', description: 'A strong namespace for the leases; required with eventual consistency.' },
  { key: 'storage.flaredb.request_timeout', field: 'storage.flaredb.requestTimeoutMs', type: 'duration', min: 1, env: 'METRICSTOR_FLAREDB_REQUEST_TIMEOUT', description: 'Deadline of one KV call, retries included. Unset: 5s.' },
  { key: 'storage.flaredb.tls.cert_file', field: 'storage.flaredb.tls.certFile', type: 'file', description: 'Client certificate presented to FlareDB (mTLS).' },
  { key: 'storage.flaredb.tls.key_file', field: 'storage.flaredb.tls.keyFile', type: 'file', description: 'Private key of the FlareDB client certificate.' },
  { key: 'storage.flaredb.tls.ca_file', field: 'storage.flaredb.tls.caFile', type: 'file', description: 'CA that FlareDB\'s certificate is checked against; turns TLS towards FlareDB on.' },
  // query
  { key: 'query.lookback_delta', field: 'query.lookbackDeltaMs', type: 'duration', min: 1, default: 5 * 60_000, env: 'METRICSTOR_QUERY_LOOKBACK_DELTA', description: 'How far back an instant selector looks for a sample.' },
  { key: 'query.timeout', field: 'query.timeoutMs', type: 'duration', min: 1, default: 2 * 60_000, env: 'METRICSTOR_QUERY_TIMEOUT', description: 'Deadline of one query; a request\'s `timeout` parameter can only shorten it.' },
  { key: 'query.max_samples', field: 'query.maxSamples', ...positiveInt, default: 50_000_000, env: 'METRICSTOR_QUERY_MAX_SAMPLES', description: 'Most samples one query may hold in memory.' },
  { key: 'query.max_concurrency', field: 'query.maxConcurrency', ...positiveInt, default: 4, env: 'METRICSTOR_QUERY_MAX_CONCURRENCY', description: 'Most PromQL queries (query, query_range) evaluated at once; the rest wait in line.' },
  { key: 'query.max_queue', field: 'query.maxQueue', type: 'integer', min: 0, default: 64, env: 'METRICSTOR_QUERY_MAX_QUEUE', description: 'Most queries waiting for a slot; one more, or one waiting longer than query.timeout, gets 503 with Retry-After.' },
  // ingest
  { key: 'ingest.max_concurrency', field: 'ingest.maxConcurrency', ...positiveInt, default: DEFAULT_WRITE_QUEUE.maxConcurrent, env: 'METRICSTOR_INGEST_MAX_CONCURRENCY', description: 'Most remote write and import requests written to storage at once; the rest wait in line.' },
  { key: 'ingest.max_queue', field: 'ingest.maxQueue', type: 'integer', min: 0, default: DEFAULT_WRITE_QUEUE.maxWaiting, env: 'METRICSTOR_INGEST_MAX_QUEUE', description: 'Most writes waiting for a slot (each holds only its compressed body); one more, or one waiting over 10 s, gets 429 with Retry-After.' },
  { key: 'ingest.decode_workers', field: 'ingest.decodeWorkers', type: 'integer', min: 0, env: 'METRICSTOR_INGEST_DECODE_WORKERS', description: 'Threads that decompress and scan remote write bodies off the event loop; 0: the event loop does it. Unset: one per core beyond the first (the event loop keeps one), at least 1, at most 4.' },
  // limits
  { key: 'limits.max_form_body_bytes', field: 'limits.maxFormBodyBytes', ...positiveInt, default: 4 * MIB, description: 'Largest form-encoded body accepted by the query API.' },
  { key: 'limits.max_body_bytes', field: 'limits.maxBodyBytes', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxBodyBytes, env: 'METRICSTOR_MAX_BODY_BYTES', description: 'Largest remote write or import body as sent (compressed); larger: 413.' },
  { key: 'limits.max_decoded_bytes', field: 'limits.maxDecodedBytes', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxDecodedBytes, description: 'Largest ingest body after decompression; larger: 413.' },
  { key: 'limits.max_series_per_request', field: 'limits.maxSeriesPerRequest', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxSeriesPerRequest, description: 'Most series in one ingest request; more: 413.' },
  { key: 'limits.max_samples_per_request', field: 'limits.maxSamplesPerRequest', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxSamplesPerRequest, env: 'METRICSTOR_MAX_SAMPLES_PER_REQUEST', description: 'Most samples in one ingest request; more: 413.' },
  { key: 'limits.max_labels_per_series', field: 'limits.maxLabelsPerSeries', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxLabelsPerSeries, description: 'Most labels on one series, __name__ included; more: 400.' },
  { key: 'limits.max_label_name_length', field: 'limits.maxLabelNameLength', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxLabelNameLength, description: 'Longest label name in characters; longer: 400.' },
  { key: 'limits.max_label_value_length', field: 'limits.maxLabelValueLength', ...positiveInt, default: DEFAULT_INGEST_LIMITS.maxLabelValueLength, description: 'Longest label value in characters; longer: 400.' },
  // self-monitoring
  { key: 'self_monitoring.ingest_interval', field: 'selfMonitoring.ingestIntervalMs', type: 'duration', min: 0, default: 0, env: 'METRICSTOR_SELF_MONITORING_INGEST_INTERVAL', description: '0: off. Otherwise the server appends its own /metrics to its storage at this interval (job="metricstor").' },
];

/** The command-line flag of a setting: `--` and the key with `-` for `_` (`--server.http-addr`). */
export function flagOf(setting: Setting): string {
  return `--${setting.key.replaceAll('_', '-')}`;
}

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));
const BY_FLAG = new Map(SETTINGS.map((s) => [flagOf(s), s]));

export function settingByKey(key: string): Setting | undefined {
  return BY_KEY.get(key);
}

export function settingByFlag(flag: string): Setting | undefined {
  return BY_FLAG.get(flag);
}

/** Whether a dotted YAML path is a section holding settings (`server`, `server.tls`, ...). */
export function isSection(path: string): boolean {
  return SETTINGS.some((s) => s.key.startsWith(`${path}.`));
}

export type Coerced = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/**
 * Checks a value for a setting. `raw` comes from YAML (typed) or from an environment variable or
 * flag (text, which is parsed first). File readability is checked elsewhere (it touches the disk).
 */
export function coerce(setting: Setting, raw: unknown, fromText: boolean): Coerced {
  const fail = (want: string): Coerced => ({ ok: false, error: `${setting.key}: want ${want}, got ${describe(raw)}` });
  switch (setting.type) {
    case 'string':
    case 'file':
      return typeof raw === 'string' && raw !== '' ? { ok: true, value: raw } : fail('a non-empty string');
    case 'address': {
      if (typeof raw !== 'string') return fail('host:port');
      try {
        parseHostPort(raw);
      } catch {
        return fail('host:port');
      }
      return { ok: true, value: raw };
    }
    case 'enum':
      return typeof raw === 'string' && setting.values!.includes(raw) ? { ok: true, value: raw } : fail(`one of ${setting.values!.join(', ')}`);
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (fromText && (raw === 'true' || raw === 'false')) return { ok: true, value: raw === 'true' };
      return fail('true or false');
    }
    case 'list': {
      const items = fromText && typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
      if (!Array.isArray(items) || !items.every((i): i is string => typeof i === 'string' && i !== '')) return fail('a list of strings');
      return { ok: true, value: items };
    }
    case 'duration': {
      const ms = typeof raw === 'string' ? parseDurationMs(raw) : raw === 0 ? 0 : undefined;
      if (ms === undefined) return fail('a duration such as 30s, 5m or 1h30m');
      return atLeast(setting, ms) ? { ok: true, value: ms } : fail(`a duration of at least ${formatDurationMs(setting.min!)}`);
    }
    case 'integer':
    case 'number': {
      const n = fromText && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      const integer = setting.type === 'integer';
      if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) {
        return fail(integer ? 'an integer' : 'a number');
      }
      if (!atLeast(setting, n)) return fail(`a number ${setting.exclusiveMin ? 'above' : 'of at least'} ${setting.min}`);
      return { ok: true, value: n };
    }
  }
}

function atLeast(setting: Setting, n: number): boolean {
  if (setting.min === undefined) return true;
  return setting.exclusiveMin ? n > setting.min : n >= setting.min;
}

function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a map';
  return JSON.stringify(raw);
}

/** A setting's default as it is written in YAML (durations as text), or undefined. */
export function defaultText(setting: Setting): string | undefined {
  const d = setting.default;
  if (d === undefined) return undefined;
  if (setting.type === 'duration' && typeof d === 'number') return formatDurationMs(d);
  return Array.isArray(d) ? d.join(',') : String(d);
}

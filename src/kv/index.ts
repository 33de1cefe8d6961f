import path from 'node:path';
import { MetricstorError } from '../errors.js';
import { EmbeddedKv, type EmbeddedDurability } from './embedded.js';
import { FlareDbKv, type FlareDbConsistency } from './flaredb.js';
import type { KvStore } from './kv.js';
import { MemoryKv } from './memory.js';

export type { KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
export { EmbeddedKv, type EmbeddedDurability, type EmbeddedKvOptions, type FileUsage, type ReclaimOptions, type ReclaimSummary } from './embedded.js';
export { MemoryKv } from './memory.js';
export { FlareDbKv, type FlareDbConsistency } from './flaredb.js';
export * from './bytes.js';

export type KvBackend = 'embedded' | 'flaredb' | 'memory';

/** Where and how to reach FlareDB (the flaredb backend). */
export interface OpenFlareDbOptions {
  readonly endpoints: readonly string[];
  /** Namespace of the data; default `metricstor`. */
  readonly namespace?: string;
  /** Default strong. */
  readonly consistency?: FlareDbConsistency;
  /** A strong namespace for keys under `strongPrefixes`; required with eventual consistency. */
  readonly leaseNamespace?: string;
  /** Key prefixes that need atomic compare-and-swap across gateways (leases). */
  readonly strongPrefixes?: readonly Uint8Array[];
  /** Deadline of each KV call, retries included; default 5000. */
  readonly requestTimeoutMs?: number;
  /** TLS towards FlareDB: the CA turns it on; certificate and key add mTLS. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** Name to verify in FlareDB's certificate instead of the endpoint's host. */
  readonly serverName?: string;
}

export interface OpenKvOptions {
  readonly backend: KvBackend;
  /** The node's data directory; the embedded store lives in its `kv` subdirectory. */
  readonly dataDir: string;
  /** Embedded only; see EmbeddedDurability. */
  readonly durability?: EmbeddedDurability;
  /** Required by the flaredb backend. */
  readonly flaredb?: OpenFlareDbOptions;
}

export const DEFAULT_FLAREDB_NAMESPACE = 'metricstor';
export const DEFAULT_FLAREDB_TIMEOUT_MS = 5000;

type KvFactory = (options: OpenKvOptions) => Promise<KvStore>;

const FACTORIES: Readonly<Record<KvBackend, KvFactory>> = {
  embedded: (options) =>
    EmbeddedKv.open(kvDir(options.dataDir), options.durability === undefined ? {} : { durability: options.durability }),
  memory: async () => new MemoryKv(),
  flaredb: async (options) => openFlareDb(options.flaredb),
};

function openFlareDb(options: OpenFlareDbOptions | undefined): KvStore {
  if (options === undefined || options.endpoints.length === 0) {
    throw new MetricstorError('bad_data', 'the flaredb backend needs at least one endpoint');
  }
  const consistency = options.consistency ?? 'strong';
  if (consistency === 'eventual' && options.leaseNamespace === undefined) {
    throw new MetricstorError('bad_data', 'flaredb consistency eventual needs a lease namespace (a strong namespace for the leases)');
  }
  const tls = options.tls;
  if (tls !== undefined && tls.caFile === undefined && (tls.certFile !== undefined || tls.keyFile !== undefined)) {
    throw new MetricstorError('bad_data', 'TLS towards FlareDB needs a CA file');
  }
  return FlareDbKv.open({
    endpoints: options.endpoints,
    namespace: options.namespace ?? DEFAULT_FLAREDB_NAMESPACE,
    consistency,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_FLAREDB_TIMEOUT_MS,
    ...(options.serverName === undefined ? {} : { serverName: options.serverName }),
    ...(tls?.caFile === undefined
      ? {}
      : {
          tls: {
            caFile: tls.caFile,
            ...(tls.certFile === undefined ? {} : { certFile: tls.certFile }),
            ...(tls.keyFile === undefined ? {} : { keyFile: tls.keyFile }),
          },
        }),
    ...(consistency === 'eventual' && options.leaseNamespace !== undefined
      ? { strongPrefixes: options.strongPrefixes ?? [], strongNamespace: options.leaseNamespace }
      : {}),
  });
}

/** The directory the embedded store uses under a data directory. */
export function kvDir(dataDir: string): string {
  return path.join(dataDir, 'kv');
}

/** Opens the KV store of the configured backend. */
export function openKv(options: OpenKvOptions): Promise<KvStore> {
  const factory: KvFactory | undefined = Object.hasOwn(FACTORIES, options.backend) ? FACTORIES[options.backend] : undefined;
  if (factory === undefined) {
    return Promise.reject(new MetricstorError('bad_data', `unknown KV backend ${JSON.stringify(options.backend)}`));
  }
  return factory(options);
}

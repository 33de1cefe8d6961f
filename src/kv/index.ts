import path from 'node:path';
import { MetricstorError } from '../errors.js';
import { EmbeddedKv, type EmbeddedDurability } from './embedded.js';
import type { KvStore } from './kv.js';
import { MemoryKv } from './memory.js';

export type { KvEntry, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';
export { EmbeddedKv, type EmbeddedDurability, type EmbeddedKvOptions } from './embedded.js';
export { MemoryKv } from './memory.js';
export * from './bytes.js';

export type KvBackend = 'embedded' | 'memory';

export interface OpenKvOptions {
  readonly backend: KvBackend;
  /** The node's data directory; the embedded store lives in its `kv` subdirectory. */
  readonly dataDir: string;
  /** Embedded only; see EmbeddedDurability. */
  readonly durability?: EmbeddedDurability;
}

type KvFactory = (options: OpenKvOptions) => Promise<KvStore>;

const FACTORIES: Readonly<Record<KvBackend, KvFactory>> = {
  embedded: (options) =>
    EmbeddedKv.open(kvDir(options.dataDir), options.durability === undefined ? {} : { durability: options.durability }),
  memory: async () => new MemoryKv(),
};

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

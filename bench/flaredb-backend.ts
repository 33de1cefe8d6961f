/**
 * The FlareDB side of the ingest benchmark (`npm run bench:ingest -- --backend flaredb`): a
 * flaredb-dev process to write to, the KV each backend uses, and query latency measured over the
 * data a run left behind.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedKv } from '../src/kv/embedded.js';
import { FlareDbKv } from '../src/kv/flaredb.js';
import type { KvStore } from '../src/kv/kv.js';
import { parseExpr } from '../src/promql/parser/index.js';
import { PromqlEngine } from '../src/promql/engine/engine.js';
import { Storage } from '../src/storage/index.js';
import { NS_LEASE } from '../src/storage/keys.js';

export type BenchBackend = 'embedded' | 'flaredb' | 'flaredb-eventual';

export function benchBackend(arg: string | undefined): BenchBackend {
  if (arg === 'embedded' || arg === 'flaredb' || arg === 'flaredb-eventual') return arg;
  throw new Error(`--backend wants embedded, flaredb or flaredb-eventual, got ${JSON.stringify(arg)}`);
}

const DEV_SERVER_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'flaredb-client', 'bin', 'flaredb-dev.js');
const LEASE_NAMESPACE = 'metricstor-leases';

/** A flaredb-dev process on a free port with its data in `dataDir` (no fsync: it measures the client path). */
export async function startFlareDbDev(dataDir: string): Promise<{ address: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [DEV_SERVER_BIN, '--addr', '127.0.0.1:0', '--data-dir', dataDir, '--default-mode', 'strong', '--namespace', 'metricstor-eventual=eventual', '--no-sync'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('flaredb-dev did not start within 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`flaredb-dev exited early with ${code}`)));
  });
  return {
    address,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The KV of one backend: the embedded store in `dir`, or FlareDB at `address` as the server wires it. */
export async function openBenchKv(backend: BenchBackend, dir: string, address: string): Promise<KvStore> {
  if (backend === 'embedded') return EmbeddedKv.open(dir);
  const eventual = backend === 'flaredb-eventual';
  return FlareDbKv.open({
    endpoints: [address],
    namespace: eventual ? 'metricstor-eventual' : 'metricstor',
    consistency: eventual ? 'eventual' : 'strong',
    timeoutMs: 30_000,
    ...(eventual ? { strongPrefixes: [Uint8Array.of(NS_LEASE)], strongNamespace: LEASE_NAMESPACE } : {}),
  });
}

/** RPCs a FlareDB store has sent (attempts, retries included); undefined for other stores. */
export function kvRpcs(kv: KvStore): number | undefined {
  return kv instanceof FlareDbKv ? kv.stats().attempts : undefined;
}

export interface QueryTiming {
  readonly query: string;
  /** Median over the runs after the first, which fills the caches. */
  readonly warmMs: number;
  readonly coldMs: number;
}

/** Range queries over [startMs, endMs] on a fresh Storage over `kv`: cold (first run) and warm median. */
export async function queryLatency(kv: KvStore, startMs: number, endMs: number, runs = 5): Promise<QueryTiming[]> {
  const storage = await Storage.open(kv);
  try {
    const engine = new PromqlEngine(storage, { parse: parseExpr });
    const queries = [
      'sum by (mode) (rate(node_cpu_seconds_total[5m]))',
      'node_load1{instance="host-001:9100"}',
      'topk(5, node_memory_MemAvailable_bytes)',
    ];
    const out: QueryTiming[] = [];
    for (const query of queries) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        await engine.rangeQuery(query, startMs, endMs, 60_000);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const warm = times.slice(1).sort((a, b) => a - b);
      out.push({ query, coldMs: times[0]!, warmMs: warm[Math.floor(warm.length / 2)]! });
    }
    return out;
  } finally {
    await storage.close();
  }
}

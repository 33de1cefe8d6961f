/**
 * CPU time per query of the side-by-side query list (bench/compare/query-list.ts) over compacted
 * data, through the PromqlEngine with no HTTP in between (docs/benchmarks.md, "Query",
 * "Instant and short-range selects at scale").
 *
 *   npx tsx bench/query-cpu.ts --store=DIR [--hosts=200] [--hours=6] [--class=TEXT]
 *       [--kinds=instant,range30m,range24h] [--reps=3] [--checkout=DIR] [--cpu-profile=FILE]
 *       [--query=TEXT]
 *
 * When DIR holds no store yet, the data (bench/data/node-exporter.ts, ending at the current
 * minute) is appended through a buffered Storage over the embedded KV and compacted as
 * `POST /api/v1/admin/tsdb/compact` does, so the head is empty and every window is a compacted
 * block, as after `npm run bench`'s load. Later runs reuse the store, so runs from two checkouts
 * read the very same bytes: --checkout names the checkout whose Storage and engine answer (e.g. one
 * from `git worktree add DIR COMMIT`; default this one).
 *
 * Every query of the classes whose name contains --class (or only --query, which may be any
 * PromQL, e.g. one query to profile) is asked once per kind as a warm-up,
 * then each is asked --reps times; the median CPU time (process.cpuUsage) of its repetitions is
 * its figure. Prints per kind and class the count, sum and median of those figures, then a JSON
 * line starting with {"bench":"query-cpu" with every query's figure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EmbeddedKv } from '../src/kv/embedded.js';
import type { PromqlEngine } from '../src/promql/engine/engine.js';
import type { Storage } from '../src/storage/index.js';
import type { compactNow } from '../src/storage/maintenance/compact-now.js';
import { BENCH_QUERIES } from './compare/query-list.js';
import { generateSeriesSlices, type NodeExporterOptions } from './data/node-exporter.js';
import type { appendBatchOf } from '../src/storage/append-batch.js';
import type { AppendBatch, SeriesAppend } from '../src/storage/types.js';

const KINDS = ['instant', 'range30m', 'range24h'] as const;
type Kind = (typeof KINDS)[number];
const INTERVAL_MS = 15_000;
const SLICE_MS = 10 * 60_000;
const SERIES_PER_APPEND = 1_500;
const META_FILE = 'query-cpu.json';

interface Args {
  readonly store: string;
  readonly hosts: number;
  readonly hours: number;
  readonly cls: string;
  readonly kinds: readonly Kind[];
  readonly reps: number;
  readonly checkout: string;
  readonly cpuProfile: string | undefined;
  readonly query: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const raw = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const num = (name: string, fallback: number): number => {
    const n = Number(raw(name) ?? fallback);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const store = raw('store');
  if (store === undefined) throw new Error('--store=DIR is required');
  const kinds = (raw('kinds') ?? 'instant,range30m').split(',');
  for (const k of kinds) if (!(KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: unknown ${k}; one of ${KINDS.join(', ')}`);
  return {
    store: path.resolve(store),
    hosts: Math.round(num('hosts', 200)),
    hours: num('hours', 6),
    cls: raw('class') ?? '',
    kinds: kinds as Kind[],
    reps: Math.round(num('reps', 3)),
    checkout: path.resolve(raw('checkout') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..')),
    cpuProfile: raw('cpu-profile'),
    query: raw('query'),
  };
}

/** The parts of a checkout this bench uses, imported from that checkout's sources. */
interface Checkout {
  readonly EmbeddedKv: typeof EmbeddedKv;
  readonly Storage: typeof Storage;
  readonly PromqlEngine: typeof PromqlEngine;
  readonly compactNow: typeof compactNow;
  readonly appendBatchOf: typeof appendBatchOf;
}

async function importCheckout(dir: string): Promise<Checkout> {
  const load = (file: string): Promise<unknown> => import(pathToFileURL(path.join(dir, file)).href);
  const kv = (await load('src/kv/embedded.ts')) as { EmbeddedKv: typeof EmbeddedKv };
  const storage = (await load('src/storage/index.ts')) as { Storage: typeof Storage };
  const engine = (await load('src/promql/engine/engine.ts')) as { PromqlEngine: typeof PromqlEngine };
  const compact = (await load('src/storage/maintenance/compact-now.ts')) as { compactNow: typeof compactNow };
  // Checkouts from before append batches take the list of series itself.
  const batches = (await load('src/storage/append-batch.ts').catch(() => ({
    appendBatchOf: (series: readonly SeriesAppend[]) => series as unknown as AppendBatch,
  }))) as { appendBatchOf: typeof appendBatchOf };
  return {
    EmbeddedKv: kv.EmbeddedKv,
    Storage: storage.Storage,
    PromqlEngine: engine.PromqlEngine,
    compactNow: compact.compactNow,
    appendBatchOf: batches.appendBatchOf,
  };
}

/** Builds and compacts the store; returns the time of its last sample. */
async function build(c: Checkout, args: Args): Promise<number> {
  const durationMs = args.hours * 3_600_000;
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;
  const opts: NodeExporterOptions = { hosts: args.hosts, durationMs, intervalMs: INTERVAL_MS, startMs: endMs - durationMs };
  const lastSampleMs = opts.startMs! + (Math.ceil(durationMs / INTERVAL_MS) - 1) * INTERVAL_MS;
  const kv = await c.EmbeddedKv.open(args.store);
  const storage = await c.Storage.open(kv, { headFlush: { intervalMs: 10_000 } });
  for (const slice of generateSeriesSlices(opts, SLICE_MS)) {
    for (let i = 0; i < slice.length; i += SERIES_PER_APPEND) await storage.append(c.appendBatchOf(slice.slice(i, i + SERIES_PER_APPEND)));
  }
  await c.compactNow({ kv, closeOpenChunks: () => storage.closeOpenChunks() }, Date.now());
  await storage.close();
  await writeFile(path.join(args.store, META_FILE), JSON.stringify({ hosts: args.hosts, hours: args.hours, lastSampleMs }));
  return lastSampleMs;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const c = await importCheckout(args.checkout);
  const metaPath = path.join(args.store, META_FILE);
  const lastSampleMs = existsSync(metaPath)
    ? (JSON.parse(readFileSync(metaPath, 'utf8')) as { lastSampleMs: number }).lastSampleMs
    : await build(c, args);
  const storage = await c.Storage.open(await c.EmbeddedKv.open(args.store), { headFlush: { intervalMs: 10_000 } });
  const engine = new c.PromqlEngine(storage);
  const ask = (query: string, kind: Kind): Promise<unknown> => {
    if (kind === 'instant') return engine.instantQuery(query, lastSampleMs);
    if (kind === 'range30m') return engine.rangeQuery(query, lastSampleMs - 1_800_000, lastSampleMs, 30_000);
    return engine.rangeQuery(query, lastSampleMs - 86_400_000, lastSampleMs, 300_000);
  };
  try {
    const queries = args.query === undefined ? BENCH_QUERIES.filter((q) => q.cls.includes(args.cls)) : [{ cls: 'given', query: args.query }];
    for (const kind of args.kinds) for (const q of queries) await ask(q.query, kind);
    const session = args.cpuProfile === undefined ? null : new Session();
    if (session !== null) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    const perQuery: Record<string, number> = {};
    const perClass = new Map<string, number[]>();
    for (const kind of args.kinds) {
      for (const q of queries) {
        const ms: number[] = [];
        for (let r = 0; r < args.reps; r++) {
          const started = cpuMs();
          await ask(q.query, kind);
          ms.push(cpuMs() - started);
        }
        const m = median(ms);
        perQuery[`${kind} ${q.query}`] = m;
        const key = `${kind} | ${q.cls}`;
        perClass.set(key, [...(perClass.get(key) ?? []), m]);
      }
    }
    if (session !== null) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(args.cpuProfile!, JSON.stringify(profile));
      session.disconnect();
    }
    process.stdout.write(`CPU ms per query, median of ${args.reps} (every query warmed up once first)\n`);
    process.stdout.write('| kind | class | queries | sum | median |\n|---|---|---:|---:|---:|\n');
    for (const [key, ms] of perClass) {
      const sum = ms.reduce((a, b) => a + b, 0);
      process.stdout.write(`| ${key} | ${ms.length} | ${sum.toFixed(1)} | ${median(ms).toFixed(2)} |\n`);
    }
    process.stdout.write(`${JSON.stringify({ bench: 'query-cpu', checkout: args.checkout, perQuery })}\n`);
  } finally {
    await storage.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

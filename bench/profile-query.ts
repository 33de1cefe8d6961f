/**
 * Where the CPU time of a query goes: storage select versus PromQL evaluation (docs/benchmarks.md,
 * "Query", "Evaluation hot spots").
 *
 *   npx tsx bench/profile-query.ts [--hosts=20] [--hours=6] [--reps=10] [--classes=sum-by,histogram]
 *       [--kinds=instant,range-all,range-30m] [--rounds=1]
 *       [--cpu-profile=FILE.cpuprofile] [--baseline=DIR] [--memo-selects]
 *
 * The data (bench/data/node-exporter.ts) ends at the current minute and goes straight into a
 * Storage over the embedded KV in a temporary directory (buffered head policy, as the server's
 * default), with no HTTP in between. Each query runs once as a warm-up and then --reps times
 * through the PromqlEngine; the CPU time of the process (process.cpuUsage) is split into the time
 * from each select() call to its answer and the rest (planning, evaluation, result building).
 * Queries run one at a time, so nothing else runs while a select is outstanding. --rounds repeats
 * the whole list that many times, interleaved, and reports per query the round with the median
 * total (a shared machine's spikes stay out). --cpu-profile writes a V8 CPU profile of
 * the measured repetitions only (not the load or the warm-ups); bench/cpuprofile-summary.ts reads it.
 * --baseline names another checkout of this repository (e.g. from `git worktree add DIR COMMIT`):
 * its PromqlEngine answers the same queries over the same Storage, alternating with this one's,
 * and the table gains its figures and the ratio of the non-select parts. --memo-selects answers
 * each distinct select from memory after its first (warm-up) call: what remains is the engine's
 * own CPU time (planning, evaluation, result building, and the garbage collection they cause).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EmbeddedKv } from '../src/kv/embedded.js';
import { PromqlEngine } from '../src/promql/engine/engine.js';
import { Storage } from '../src/storage/index.js';
import type { Queryable, SelectParams, SeriesData } from '../src/storage/types.js';
import { countSamples, countSeries, generateSeriesSlices, type NodeExporterOptions } from './data/node-exporter.js';
import { appendBatchOf } from '../src/storage/append-batch.js';

const QUERY_CLASSES: Readonly<Record<string, string>> = {
  selector: 'node_load1',
  rate: 'rate(node_network_receive_bytes_total[5m])',
  'sum-by': 'sum by (mode) (rate(node_cpu_seconds_total[5m]))',
  histogram: 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  topk: 'topk(5, rate(node_network_transmit_bytes_total[5m]))',
  subquery: 'max_over_time(rate(node_cpu_seconds_total{mode="user"}[5m])[30m:1m])',
  binary: 'node_memory_MemAvailable_bytes / on(instance) group_left node_memory_MemTotal_bytes',
  'over-time': 'avg_over_time(node_load1[10m])',
};

const KINDS = ['instant', 'range-all', 'range-30m'] as const;
type Kind = (typeof KINDS)[number];

const SLICE_MS = 10 * 60_000;
const SERIES_PER_APPEND = 1_500;

interface Args {
  readonly hosts: number;
  readonly hours: number;
  readonly reps: number;
  readonly rounds: number;
  readonly classes: readonly string[];
  readonly kinds: readonly Kind[];
  readonly cpuProfile: string | undefined;
  readonly baseline: string | undefined;
  readonly memoSelects: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const raw = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const num = (name: string, fallback: number): number => {
    const text = raw(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const list = <T extends string>(name: string, allowed: readonly T[]): T[] => {
    const text = raw(name);
    if (text === undefined) return [...allowed];
    const items = text.split(',');
    for (const item of items) {
      if (!allowed.includes(item as T)) throw new Error(`--${name}: unknown ${item}; one of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
  return {
    hosts: Math.round(num('hosts', 20)),
    hours: num('hours', 6),
    reps: Math.round(num('reps', 10)),
    rounds: Math.round(num('rounds', 1)),
    classes: list('classes', Object.keys(QUERY_CLASSES)),
    kinds: list('kinds', KINDS),
    cpuProfile: raw('cpu-profile'),
    baseline: raw('baseline'),
    memoSelects: argv.includes('--memo-selects'),
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * A Queryable that adds up the process CPU time while at least one select() is outstanding
 * (a query's selects run concurrently). With memo, each distinct select is read from storage once
 * and then answered from memory, so that only the engine's own work is left to measure.
 */
class TimedQueryable implements Queryable {
  selectCpuMs = 0;
  private outstanding = 0;
  private startedMs = 0;
  private readonly memo: Map<string, Promise<SeriesData[]>> | null;

  constructor(
    private readonly inner: Queryable,
    memo: boolean,
  ) {
    this.memo = memo ? new Map() : null;
  }

  async select(params: SelectParams): Promise<SeriesData[]> {
    if (this.outstanding++ === 0) this.startedMs = cpuMs();
    try {
      if (this.memo === null) return await this.inner.select(params);
      const key = JSON.stringify([params.matchers.map((m) => [m.type, m.name, m.value]), params.startMs, params.endMs]);
      let answer = this.memo.get(key);
      if (answer === undefined) this.memo.set(key, (answer = this.inner.select(params)));
      return await answer;
    } finally {
      if (--this.outstanding === 0) this.selectCpuMs += cpuMs() - this.startedMs;
    }
  }
}

async function load(storage: Storage, opts: NodeExporterOptions): Promise<void> {
  for (const slice of generateSeriesSlices(opts, SLICE_MS)) {
    for (let i = 0; i < slice.length; i += SERIES_PER_APPEND) {
      await storage.append(appendBatchOf(slice.slice(i, i + SERIES_PER_APPEND)));
    }
  }
}

interface Figures {
  readonly totalMs: number;
  readonly selectMs: number;
}

/** A V8 CPU profile of part of this process, through the inspector. */
class Profiler {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 200 });
    await this.session.post('Profiler.start');
  }

  async stop(file: string): Promise<void> {
    const { profile } = await this.session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    this.session.disconnect();
  }
}

type Once = () => Promise<unknown>;

function queryRunner(engine: PromqlEngine, query: string, kind: Kind, lastSampleMs: number, durationMs: number): Once {
  if (kind === 'instant') return () => engine.instantQuery(query, lastSampleMs);
  if (kind === 'range-all') return () => engine.rangeQuery(query, lastSampleMs - durationMs, lastSampleMs, 300_000);
  return () => engine.rangeQuery(query, lastSampleMs - 30 * 60_000, lastSampleMs, 30_000);
}

async function measure(once: Once, timed: TimedQueryable, reps: number): Promise<Figures> {
  timed.selectCpuMs = 0;
  const started = cpuMs();
  for (let r = 0; r < reps; r++) await once();
  return { totalMs: (cpuMs() - started) / reps, selectMs: timed.selectCpuMs / reps };
}

async function baselineEngine(dir: string): Promise<typeof PromqlEngine> {
  const url = pathToFileURL(path.resolve(dir, 'src/promql/engine/engine.ts')).href;
  return ((await import(url)) as { PromqlEngine: typeof PromqlEngine }).PromqlEngine;
}

function medianRound(rounds: readonly Figures[]): Figures {
  return [...rounds].sort((a, b) => a.totalMs - b.totalMs)[Math.floor((rounds.length - 1) / 2)]!;
}

function cells(f: Figures): string[] {
  const rest = f.totalMs - f.selectMs;
  return [f.totalMs.toFixed(1), f.selectMs.toFixed(1), rest.toFixed(1), `${((100 * rest) / f.totalMs).toFixed(0)}%`];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const intervalMs = 15_000;
  const durationMs = args.hours * 3_600_000;
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;
  const opts: NodeExporterOptions = { hosts: args.hosts, durationMs, intervalMs, startMs: endMs - durationMs };
  const lastSampleMs = opts.startMs! + (Math.ceil(durationMs / intervalMs) - 1) * intervalMs;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'metricstor-profile-query-'));
  const storage = await Storage.open(await EmbeddedKv.open(dir), { headFlush: { intervalMs: 10_000 } });
  try {
    const loadStarted = performance.now();
    await load(storage, opts);
    process.stdout.write(
      `data: ${args.hosts} hosts × ${args.hours} h = ${countSeries(opts)} series, ` +
        `${(countSamples(opts) / 1e6).toFixed(2)} M samples, loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s\n`,
    );
    const timed = new TimedQueryable(storage, args.memoSelects);
    const engine = new PromqlEngine(timed);
    const Baseline = args.baseline === undefined ? null : await baselineEngine(args.baseline);
    const baseline = Baseline === null ? null : new Baseline(timed);
    const cases = args.classes.flatMap((name) =>
      args.kinds.map((kind) => {
        const runner = (e: PromqlEngine): Once => queryRunner(e, QUERY_CLASSES[name]!, kind, lastSampleMs, durationMs - intervalMs);
        return { name, kind, once: runner(engine), baselineOnce: baseline === null ? null : runner(baseline) };
      }),
    );
    for (const c of cases) {
      await c.once();
      await c.baselineOnce?.();
    }
    const profiler = args.cpuProfile === undefined ? null : new Profiler();
    await profiler?.start();
    const mine = cases.map((): Figures[] => []);
    const theirs = cases.map((): Figures[] => []);
    for (let round = 0; round < args.rounds; round++) {
      for (const [i, { once, baselineOnce }] of cases.entries()) {
        if (baselineOnce !== null) theirs[i]!.push(await measure(baselineOnce, timed, args.reps));
        mine[i]!.push(await measure(once, timed, args.reps));
      }
    }
    if (profiler !== null) await profiler.stop(args.cpuProfile!);
    const rows = cases.map(({ name, kind }, i) => {
      const f = medianRound(mine[i]!);
      const row = [name, kind, ...cells(f)];
      if (theirs[i]!.length > 0) {
        const base = medianRound(theirs[i]!);
        row.push(...cells(base), ((base.totalMs - base.selectMs) / (f.totalMs - f.selectMs)).toFixed(2));
      }
      return `| ${row.join(' | ')} |\n`;
    });
    const rounds = args.rounds > 1 ? `, median round of ${args.rounds}` : '';
    process.stdout.write(`CPU ms per query, mean of ${args.reps}${rounds} (every query warmed up once first)\n`);
    const header = ['class', 'kind', 'total', 'select', 'rest', 'rest share'];
    if (baseline !== null) header.push('baseline total', 'baseline select', 'baseline rest', 'baseline rest share', 'rest: baseline / this');
    process.stdout.write(`| ${header.join(' | ')} |\n|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|\n`);
    process.stdout.write(rows.join(''));
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

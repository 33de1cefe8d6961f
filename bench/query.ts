/**
 * Query latency benchmark (docs/benchmarks.md, "Query"): the query list of the side-by-side
 * benchmark (bench/compare/query-list.ts) over data loaded here, without the ingest measurements.
 *
 *   npm run bench:query                                  200 hosts, 24 h at 15 s (full size; slow to load)
 *   npm run bench:query -- --hosts=20 --hours=24         a smaller data set
 *   npm run bench:query -- --reps=5 --prometheus         fewer repetitions; also measure Prometheus
 *   npm run bench:query -- --victoriametrics             also measure VictoriaMetrics
 *   npm run bench:query -- --class=subquery              only the classes whose name contains this
 *   npm run bench:query -- --backend flaredb             the server on a flaredb-dev process
 *                                                        (flaredb-eventual: KvRaw; default embedded)
 *
 * The data (bench/data/node-exporter.ts, 75 series per host) ends at the current minute. It is
 * loaded into a Metricstor server started in this process (embedded KV in a temporary directory,
 * default head policy) through its real write path: remote write over HTTP, one request per
 * 10-minute slice and group of series, four requests in flight. With --prometheus and
 * --victoriametrics the same requests also go to a fresh `prometheus` (Debian's 2.42, with the
 * remote-write receiver) and a fresh `victoria-metrics`.
 *
 * Every query is then asked as an instant query at the last sample, and as range queries over
 * the last 30 min at step 30 s and the last 24 h at step 5 min (bench/compare/queries.ts). With
 * Prometheus measured, the answers of the others are compared with its answers, and latency
 * ratios are against it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { pushRemoteWrite, type PushSeries } from '../src/promql/testing/remote-write.js';
import { startServer } from '../src/server.js';
import { BENCH_QUERIES, benchmarkQueries, renderQueryReport, type QueryTarget } from './compare/queries.js';
import { metricstor } from './compare/systems/metricstor.js';
import { prometheus } from './compare/systems/prometheus.js';
import type { RunningSystem, SystemKind } from './compare/systems/system.js';
import { victoriaMetrics } from './compare/systems/victoriametrics.js';
import { benchBackend, startFlareDbDev, type BenchBackend } from './flaredb-backend.js';
import { countSamples, countSeries, generateSeriesSlices, type NodeExporterOptions } from './data/node-exporter.js';

const SLICE_MS = 10 * 60_000;
const SERIES_PER_REQUEST = 1_500;
const PUSHES_IN_FLIGHT = 4;

interface Args {
  readonly hosts: number;
  readonly hours: number;
  readonly intervalMs: number;
  readonly reps: number;
  readonly timeoutMs: number;
  readonly prometheus: boolean;
  readonly victoriaMetrics: boolean;
  readonly classFilter: string | undefined;
  readonly backend: BenchBackend;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string, fallback: number): number => {
    const arg = argv.find((a) => a.startsWith(`--${name}=`));
    if (arg === undefined) return fallback;
    const n = Number(arg.slice(name.length + 3));
    if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const classArg = argv.find((a) => a.startsWith('--class='));
  return {
    hosts: Math.round(value('hosts', 200)),
    hours: value('hours', 24),
    intervalMs: value('interval-seconds', 15) * 1000,
    reps: Math.round(value('reps', 10)),
    timeoutMs: value('timeout-seconds', 60) * 1000,
    prometheus: argv.includes('--prometheus'),
    victoriaMetrics: argv.includes('--victoriametrics'),
    classFilter: classArg?.slice('--class='.length),
    backend: argv.includes('--backend') ? benchBackend(argv[argv.indexOf('--backend') + 1]) : 'embedded',
  };
}

/** Pushes the data set to every target, slice by slice so each series arrives in time order. */
async function load(opts: NodeExporterOptions, baseUrls: readonly string[]): Promise<void> {
  for (const slice of generateSeriesSlices(opts, SLICE_MS)) {
    const series: PushSeries[] = slice.map((s) => ({
      labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
      timestamps: s.timestamps,
      values: s.values,
    }));
    const jobs: (() => Promise<void>)[] = [];
    for (const url of baseUrls) {
      for (let i = 0; i < series.length; i += SERIES_PER_REQUEST) {
        const group = series.slice(i, i + SERIES_PER_REQUEST);
        jobs.push(() => pushRemoteWrite(url, group));
      }
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: PUSHES_IN_FLIGHT }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
  }
}

/** VictoriaMetrics makes rows searchable a moment after it takes them; this makes it at once. */
async function flushVictoriaMetrics(baseUrl: string): Promise<void> {
  const res = await fetch(`${baseUrl}/internal/force_flush`, { signal: AbortSignal.timeout(60_000) });
  await res.text();
}

/** Metricstor on a FlareDB dev process, run inside this process (its CPU is then not told apart). */
async function startOnFlareDb(backend: Exclude<BenchBackend, 'embedded'>, dataDir: string): Promise<{ target: QueryTarget; stop(): Promise<void> }> {
  await mkdir(dataDir, { recursive: true });
  const flaredb = await startFlareDbDev(dataDir);
  const eventual = backend === 'flaredb-eventual';
  const server = await startServer({
    ...DEFAULT_CONFIG,
    server: { ...DEFAULT_CONFIG.server, httpAddr: '127.0.0.1:0', grpcAddr: '127.0.0.1:0', logLevel: 'warn' },
    storage: {
      ...DEFAULT_CONFIG.storage,
      dataDir,
      backend: 'flaredb' as const,
      flaredb: eventual
        ? { endpoints: [flaredb.address], namespace: 'metricstor-eventual', consistency: 'eventual' as const, leaseNamespace: 'metricstor-leases' }
        : { endpoints: [flaredb.address] },
    },
  }).catch(async (err: unknown) => {
    await flaredb.stop();
    throw err;
  });
  return {
    target: { name: 'metricstor', baseUrl: `http://${server.httpAddress}` },
    stop: async () => {
      await server.close();
      await flaredb.stop();
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const kinds: SystemKind[] = [];
  if (args.victoriaMetrics) kinds.push(victoriaMetrics());
  if (args.prometheus) kinds.push(prometheus());
  for (const kind of kinds) {
    const missing = kind.unavailable();
    if (missing !== undefined) throw new Error(`--${kind.name}: ${missing}`);
  }
  const durationMs = args.hours * 3_600_000;
  // The data ends at the start of the current minute, so Prometheus takes it into its head.
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;
  const opts: NodeExporterOptions = { hosts: args.hosts, durationMs, intervalMs: args.intervalMs, startMs: endMs - durationMs };
  const lastSampleMs = opts.startMs! + (Math.ceil(durationMs / args.intervalMs) - 1) * args.intervalMs;
  const root = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-query-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const targets: QueryTarget[] = [];
    if (args.backend === 'embedded') {
      kinds.unshift(metricstor({ head: 'buffered' }));
    } else {
      const onFlareDb = await startOnFlareDb(args.backend, path.join(root, 'metricstor'));
      stops.push(onFlareDb.stop);
      targets.push(onFlareDb.target);
    }
    const running: RunningSystem[] = [];
    for (const kind of kinds) {
      const system = await kind.start(path.join(root, kind.name));
      stops.push(system.stop);
      running.push(system);
      targets.push({ name: system.name, baseUrl: system.baseUrl, pid: system.pid });
    }
    const samples = countSamples(opts);
    process.stdout.write(`backend: ${args.backend}${args.backend === 'embedded' ? ' (own process)' : ' (flaredb-dev process, no fsync; the server in the bench process)'}, head policy: buffered, 10 s flush\n`);
    process.stdout.write(
      `data: ${args.hosts} hosts × ${args.hours} h at ${args.intervalMs / 1000} s = ${countSeries(opts)} series, ` +
        `${(samples / 1e6).toFixed(2)} M samples\n`,
    );
    const loadStarted = performance.now();
    await load(opts, targets.map((t) => t.baseUrl));
    for (const system of running) if (system.name === 'victoriametrics') await flushVictoriaMetrics(system.baseUrl);
    const loadS = (performance.now() - loadStarted) / 1000;
    process.stdout.write(
      `loaded by remote write into ${targets.map((t) => t.name).join(', ')} in ${loadS.toFixed(1)} s ` +
        `(${Math.round((samples * targets.length) / loadS).toLocaleString('en-US')} samples/s in all)\n\n`,
    );
    const queries = args.classFilter === undefined ? BENCH_QUERIES : BENCH_QUERIES.filter((q) => q.cls.includes(args.classFilter!));
    const report = await benchmarkQueries(targets, {
      dataStartMs: opts.startMs!,
      dataEndMs: lastSampleMs,
      reps: args.reps,
      hostsInData: args.hosts,
      timeoutMs: args.timeoutMs,
      queries,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`${renderQueryReport(report, 'prometheus')}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * Query latency benchmark (docs/benchmarks.md, "Query").
 *
 *   npm run bench:query                                  200 hosts, 24 h at 15 s (full size; slow to load)
 *   npm run bench:query -- --hosts=20 --hours=24         a smaller data set
 *   npm run bench:query -- --reps=5 --prometheus         fewer repetitions; also measure Prometheus
 *   npm run bench:query -- --backend flaredb             the server on a flaredb-dev process
 *                                                        (flaredb-eventual: KvRaw; default embedded)
 *
 * The data (bench/data/node-exporter.ts, 75 series per host) ends at the current minute. It is
 * loaded into a Metricstor server started in this process (embedded KV in a temporary directory,
 * default head policy) through its real write path: remote write over HTTP, one request per
 * 10-minute slice and group of series, four requests in flight. With --prometheus the same
 * requests also go to a fresh `prometheus` (Debian's 2.42) started with the remote-write receiver.
 *
 * Each query class is then asked over HTTP as an instant query at the end of the data, a range
 * query over the whole data (24 h at the default size) at step 5 m, and a range query over the
 * last 30 min at step 30 s, each repeated --reps times after one warm-up; latency is from sending
 * the request to having read the whole response body.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { prometheusOnPath, startPrometheus, type PrometheusProcess } from '../src/promql/testing/prometheus-process.js';
import { pushRemoteWrite, type PushSeries } from '../src/promql/testing/remote-write.js';
import { startServer } from '../src/server.js';
import { benchBackend, startFlareDbDev, type BenchBackend } from './flaredb-backend.js';
import { countSamples, countSeries, generateSeriesSlices, type NodeExporterOptions } from './data/node-exporter.js';

const QUERY_CLASSES: readonly (readonly [name: string, query: string])[] = [
  ['selector', 'node_load1'],
  ['rate', 'rate(node_network_receive_bytes_total[5m])'],
  ['sum by', 'sum by (mode) (rate(node_cpu_seconds_total[5m]))'],
  ['histogram_quantile', 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'],
  ['topk', 'topk(5, rate(node_network_transmit_bytes_total[5m]))'],
  ['subquery', 'max_over_time(rate(node_cpu_seconds_total{mode="user"}[5m])[30m:1m])'],
  ['binary matching', 'node_memory_MemAvailable_bytes / on(instance) group_left node_memory_MemTotal_bytes'],
  ['*_over_time', 'avg_over_time(node_load1[10m])'],
];

const SLICE_MS = 10 * 60_000;
const SERIES_PER_REQUEST = 1_500;
const PUSHES_IN_FLIGHT = 4;

interface Args {
  readonly hosts: number;
  readonly hours: number;
  readonly intervalMs: number;
  readonly reps: number;
  readonly prometheus: boolean;
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
  return {
    hosts: Math.round(value('hosts', 200)),
    hours: value('hours', 24),
    intervalMs: value('interval-seconds', 15) * 1000,
    reps: Math.round(value('reps', 10)),
    prometheus: argv.includes('--prometheus'),
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

type Kind = 'instant' | 'range 24h' | 'range 30m';

interface Measurement {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly series: number;
  readonly points: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

async function measure(baseUrl: string, path: string, params: Record<string, string>, reps: number): Promise<Measurement> {
  const body = new URLSearchParams(params).toString();
  const once = async (): Promise<[number, string]> => {
    const started = performance.now();
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const text = await res.text();
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`${baseUrl}${path} ${params['query']}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return [elapsed, text];
  };
  const [, first] = await once();
  const parsed = JSON.parse(first) as { data: { result: { values?: unknown[] }[] } };
  const times: number[] = [];
  for (let r = 0; r < reps; r++) times.push((await once())[0]);
  times.sort((a, b) => a - b);
  return {
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    series: parsed.data.result.length,
    points: parsed.data.result.reduce((n, s) => n + (s.values?.length ?? 1), 0),
  };
}

function requestFor(kind: Kind, query: string, endMs: number, durationMs: number): [string, Record<string, string>] {
  const seconds = (ms: number): string => String(ms / 1000);
  if (kind === 'instant') return ['/api/v1/query', { query, time: seconds(endMs) }];
  if (kind === 'range 24h') {
    return ['/api/v1/query_range', { query, start: seconds(endMs - durationMs), end: seconds(endMs), step: '300' }];
  }
  return ['/api/v1/query_range', { query, start: seconds(endMs - 30 * 60_000), end: seconds(endMs), step: '30' }];
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.prometheus && !prometheusOnPath()) throw new Error('--prometheus: the prometheus binary is not on PATH');
  const durationMs = args.hours * 3_600_000;
  // The data ends at the start of the current minute, so Prometheus takes it into its head.
  const endMs = Math.floor(Date.now() / 60_000) * 60_000;
  const opts: NodeExporterOptions = { hosts: args.hosts, durationMs, intervalMs: args.intervalMs, startMs: endMs - durationMs };
  const lastSampleMs = opts.startMs! + (Math.ceil(durationMs / args.intervalMs) - 1) * args.intervalMs;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'metricstor-bench-query-'));
  const flaredb = args.backend === 'embedded' ? undefined : await startFlareDbDev(dataDir);
  const eventual = args.backend === 'flaredb-eventual';
  const server = await startServer({
    ...DEFAULT_CONFIG,
    server: { ...DEFAULT_CONFIG.server, httpAddr: '127.0.0.1:0', grpcAddr: '127.0.0.1:0' },
    storage: {
      ...DEFAULT_CONFIG.storage,
      dataDir,
      ...(flaredb === undefined
        ? {}
        : {
            backend: 'flaredb' as const,
            flaredb: eventual
              ? { endpoints: [flaredb.address], namespace: 'metricstor-eventual', consistency: 'eventual' as const, leaseNamespace: 'metricstor-leases' }
              : { endpoints: [flaredb.address] },
          }),
    },
  }).catch(async (err: unknown) => {
    await flaredb?.stop();
    throw err;
  });
  let prometheus: PrometheusProcess | undefined;
  try {
    if (args.prometheus) prometheus = await startPrometheus();
    const ours = `http://${server.httpAddress}`;
    const targets = prometheus === undefined ? [ours] : [ours, prometheus.baseUrl];
    const samples = countSamples(opts);
    process.stdout.write(`backend: ${args.backend}${flaredb === undefined ? '' : ' (flaredb-dev process, no fsync)'}, head policy: ${DEFAULT_CONFIG.storage.headFlushIntervalMs === 0 ? 'write-through' : `buffered, ${DEFAULT_CONFIG.storage.headFlushIntervalMs / 1000} s flush`}\n`);
    process.stdout.write(
      `data: ${args.hosts} hosts × ${args.hours} h at ${args.intervalMs / 1000} s = ${countSeries(opts)} series, ` +
        `${(samples / 1e6).toFixed(2)} M samples\n`,
    );
    const loadStarted = performance.now();
    await load(opts, targets);
    const loadS = (performance.now() - loadStarted) / 1000;
    process.stdout.write(
      `loaded by remote write into ${targets.length === 1 ? 'Metricstor' : 'Metricstor and Prometheus'} in ${loadS.toFixed(1)} s ` +
        `(${Math.round((samples * targets.length) / loadS).toLocaleString('en-US')} samples/s in all)\n\n`,
    );
    const kinds: readonly Kind[] = ['instant', 'range 24h', 'range 30m'];
    const header = ['class', 'kind', 'series', 'points', 'p50 ms', 'p95 ms'];
    if (prometheus !== undefined) header.push('Prometheus p50 ms', 'Prometheus p95 ms', 'p50 ratio');
    process.stdout.write(`reps per query: ${args.reps} (after one warm-up)\n| ${header.join(' | ')} |\n|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|\n`);
    for (const [name, query] of QUERY_CLASSES) {
      for (const kind of kinds) {
        const [apiPath, params] = requestFor(kind, query, lastSampleMs, durationMs - args.intervalMs);
        const mine = await measure(ours, apiPath, params, args.reps);
        const cells = [name, kind === 'range 24h' ? `range ${args.hours} h, step 5m` : kind === 'range 30m' ? 'range 30 min, step 30s' : 'instant', String(mine.series), String(mine.points), fmt(mine.p50Ms), fmt(mine.p95Ms)];
        if (prometheus !== undefined) {
          const theirs = await measure(prometheus.baseUrl, apiPath, params, args.reps);
          cells.push(fmt(theirs.p50Ms), fmt(theirs.p95Ms), (mine.p50Ms / theirs.p50Ms).toFixed(2));
          // The answers are compared elsewhere (the differential test); a different size here means
          // the two did not load the same data.
          if (theirs.series !== mine.series || theirs.points !== mine.points) {
            cells[2] += ` (Prometheus ${theirs.series})`;
            cells[3] += ` (Prometheus ${theirs.points})`;
          }
        }
        process.stdout.write(`| ${cells.join(' | ')} |\n`);
      }
    }
    process.stdout.write(`\nqueries: ${QUERY_CLASSES.map(([name, q]) => `\n  ${name}: ${q}`).join('')}\n`);
  } finally {
    await prometheus?.stop();
    await server.close();
    await flaredb?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

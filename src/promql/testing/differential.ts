/**
 * Differential check against a real Prometheus 2.42 (the `prometheus` and `promtool` binaries on
 * PATH): generates data, backfills it into a Prometheus TSDB with promtool, starts Prometheus on
 * 127.0.0.1, runs the same range and instant queries on both engines and compares every point
 * (and, for instant vectors, their order).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Label, Labels } from '../../model/labels.js';
import { errorMessage } from '../../errors.js';
import { compareLabels, formatLabels, sortLabels } from '../../model/labels.js';
import { PromqlEngine } from '../engine/engine.js';
import { MemoryQueryable } from './memory-queryable.js';
import { almostEqual } from './runner.js';

const T0_MS = 1_700_000_000_000;
const DATA_MS = 3 * 3_600_000;

/** A small deterministic PRNG (mulberry32), so every run checks the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GeneratedSeries {
  labels: Labels;
  timestamps: number[];
  values: number[];
}

function makeLabels(name: string, extra: Record<string, string>): Labels {
  const list: Label[] = [{ name: '__name__', value: name }];
  for (const [n, value] of Object.entries(extra)) list.push({ name: n, value });
  return sortLabels(list);
}

function generate(): GeneratedSeries[] {
  const rand = prng(42);
  const out: GeneratedSeries[] = [];
  const scrape = (intervalMs: number, gapChance: number, f: (i: number) => number, labels: Labels): void => {
    const timestamps: number[] = [];
    const values: number[] = [];
    let inGap = 0;
    for (let t = T0_MS, i = 0; t < T0_MS + DATA_MS; t += intervalMs, i++) {
      if (inGap > 0) {
        inGap--;
        continue;
      }
      if (rand() < gapChance) inGap = 1 + Math.floor(rand() * 40);
      timestamps.push(t + Math.floor(rand() * 900));
      values.push(f(i));
    }
    out.push({ labels, timestamps, values });
  };
  for (const job of ['api', 'web']) {
    for (const code of ['200', '404', '500']) {
      let v = 0;
      scrape(15_000, 0.002, () => (rand() < 0.003 ? (v = Math.floor(rand() * 5)) : (v += Math.floor(rand() * 20))), makeLabels('req_total', { job, code }));
    }
    let cumulative = [0, 0, 0, 0, 0];
    const bounds = ['0.1', '0.5', '1', '5', '+Inf'];
    const bucketSeries = bounds.map((le) => ({ labels: makeLabels('lat_bucket', { job, le }), timestamps: [] as number[], values: [] as number[] }));
    for (let t = T0_MS; t < T0_MS + DATA_MS; t += 30_000) {
      const add = [0, 0, 0, 0, 0].map(() => Math.floor(rand() * 10));
      let running = 0;
      cumulative = cumulative.map((c, b) => c + (running += add[b]!));
      bucketSeries.forEach((s, b) => {
        s.timestamps.push(t);
        s.values.push(cumulative[b]!);
      });
    }
    out.push(...bucketSeries);
  }
  for (const room of ['a', 'b', 'c', 'd']) {
    let v = 20;
    scrape(20_000, 0.01, () => (rand() < 0.01 ? NaN : (v += rand() * 2 - 1)), makeLabels('temp', { room, floor: room < 'c' ? '1' : '2' }));
  }
  for (const instance of ['x', 'y']) {
    scrape(15_000, 0.005, () => (rand() < 0.1 ? 0 : 1), makeLabels('up', { job: 'api', instance }));
  }
  return out;
}

function toOpenMetrics(series: readonly GeneratedSeries[]): string {
  const lines: string[] = [];
  for (const s of series) {
    const name = s.labels.find((l) => l.name === '__name__')!.value;
    const rest = s.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}="${l.value}"`).join(',');
    s.timestamps.forEach((t, i) => {
      const v = s.values[i]!;
      const text = Number.isNaN(v) ? 'NaN' : String(v);
      lines.push(`${name}{${rest}} ${text} ${(t / 1000).toFixed(3)}`);
    });
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

/** Matches a subquery's `[range:step]`. */
const SUBQUERY = /\[[^\]]*:[^\]]*\]/;

const QUERIES: readonly string[] = [
  'req_total',
  'req_total offset 7m',
  'rate(req_total[5m])',
  'irate(req_total[1m])',
  'increase(req_total[10m])',
  'delta(temp[10m])',
  'idelta(temp[2m])',
  'deriv(temp[10m])',
  'predict_linear(temp[15m], 600)',
  'holt_winters(temp[10m], 0.3, 0.6)',
  'resets(req_total[30m])',
  'changes(up[20m])',
  'avg_over_time(temp[7m])',
  'sum_over_time(temp[7m])',
  'min_over_time(temp[7m])',
  'max_over_time(temp[7m])',
  'count_over_time(temp[3m])',
  'stddev_over_time(temp[9m])',
  'stdvar_over_time(temp[9m])',
  'quantile_over_time(0.3, temp[9m])',
  'last_over_time(temp[4m])',
  'present_over_time(temp[2m])',
  'absent_over_time(temp{room="a"}[2m])',
  'sum by (job) (rate(req_total[5m]))',
  'avg without (code) (rate(req_total[5m]))',
  'max by (floor) (temp)',
  'min(temp)',
  'count by (job) (req_total > 100)',
  'stddev by (job) (rate(req_total[5m]))',
  'stdvar(temp)',
  'group by (job) (req_total)',
  'topk(2, rate(req_total[5m]))',
  'bottomk by (job) (1, rate(req_total[5m]))',
  'quantile(0.75, rate(req_total[5m]))',
  'count_values("v", up)',
  'histogram_quantile(0.9, sum by (le) (rate(lat_bucket[5m])))',
  'histogram_quantile(0.5, rate(lat_bucket[10m]))',
  'rate(req_total[5m]) / on(job) group_left sum by (job) (rate(req_total[5m]))',
  'sum by (job) (rate(req_total[5m])) / on(job) group_right() rate(req_total[5m])',
  'req_total > bool 1000',
  'temp < 20',
  '1 - temp',
  'temp % 3',
  'temp ^ 0.5',
  'up and on(instance) (up == 1)',
  'temp{room="a"} or temp{room="b"}',
  'req_total unless on(code) req_total{code="404"}',
  'max_over_time(rate(req_total[5m])[30m:1m])',
  'avg_over_time(temp[20m:45s] offset 3m)',
  'rate(req_total[5m] @ end())',
  'sum(temp @ start())',
  'label_replace(temp, "r", "room-$1", "room", "(.*)")',
  'label_join(up, "both", "/", "job", "instance")',
  'clamp(temp, 19.5, 20.5)',
  'round(temp, 0.25)',
  'abs(delta(temp[5m]))',
  'sqrt(rate(req_total[5m]))',
  'exp(-rate(req_total[5m]) / 100)',
  'ln(req_total + 1)',
  'time() - timestamp(temp)',
  'vector(1) + scalar(sum(up))',
  'absent(nonexistent{job="x"})',
  'minute(timestamp(temp))',
  'hour()',
  'sort_desc(temp)',
  'sgn(deriv(temp[5m]))',
  'temp offset -5m',
  'rate(req_total[1m] offset 2m)',
  'max_over_time(temp[10m] @ 1700003600 offset 5m)',
  'min_over_time(rate(req_total[5m])[20m:2m] @ 1700005000)',
  'rate(req_total[90s])',
  'count_values by (job) ("v", up)',
  'topk by (job) (1, req_total)',
  'sum without (le) (lat_bucket)',
  'req_total / on() group_left sum(req_total)',
  'rate(req_total[5m]) > bool on(job, code) rate(req_total[5m] offset 5m)',
  '-temp',
  'temp atan2 on(room, floor) temp',
  'quantile_over_time(1.5, temp[5m])',
  'quantile(0, temp)',
  'histogram_quantile(1, sum by (le, job) (increase(lat_bucket[3m])))',
  'sum(rate(req_total[5m])) by (job) > 1',
  'avg(temp) * on() group_right count(up)',
  'days_in_month(timestamp(up))',
  'day_of_week() + day_of_month() + day_of_year() + month() + year()',
  'temp == bool on(room, floor) temp',
  '(temp > 20) or vector(0)',
  'clamp_max(clamp_min(temp, 19), 21)',
  'log2(req_total) - log10(req_total)',
  'sum_over_time(up[1h:5m])',
  'increase(req_total[5m:30s])',
]

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface PromSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

function parsePromValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export interface DifferentialReport {
  readonly checked: number;
  /** Queries both engines rejected (counted as agreeing). */
  readonly bothFailed: number;
  readonly failures: readonly string[];
  readonly points: number;
}

/** True when the prometheus and promtool binaries can be run. */
export function prometheusAvailable(): boolean {
  return ['prometheus', 'promtool'].every((bin) => spawnSync(bin, ['--version']).status === 0);
}

/**
 * Random expressions over the generated metrics (deterministic for a seed): selectors, range
 * functions, element-wise functions, aggregations and binary operators nested a few levels.
 */
export function randomQueries(count: number, seed: number): string[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const selectors = ['req_total', 'temp', 'up', 'req_total{code!="404"}', 'temp{floor="1"}', 'lat_bucket{le="1"}'];
  const ranges = ['1m', '2m', '5m', '7m', '15m'];
  const rangeFns = [
    'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'resets', 'changes', 'avg_over_time',
    'sum_over_time', 'min_over_time', 'max_over_time', 'count_over_time', 'stddev_over_time',
    'last_over_time', 'present_over_time', 'quantile_over_time(0.7, ', 'predict_linear(', 'holt_winters(',
  ];
  const extraArgs: Readonly<Record<string, string>> = { 'predict_linear(': ', 300', 'holt_winters(': ', 0.4, 0.2' };
  const at = (): string => (rand() < 0.15 ? ` @ ${(T0_MS / 1000 + 3600 + Math.floor(rand() * 5000)).toFixed(0)}` : '');
  const elementFns = ['abs', 'ceil', 'floor', 'sqrt', 'ln', 'exp', 'sgn', 'round', 'timestamp'];
  const aggs = ['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'group'];
  const groupings = ['', ' by (job)', ' by (code)', ' without (code)', ' by (room)', ' without (job, instance)'];
  const binOps = ['+', '-', '*', '/', '>', '<', '== bool', '>= bool', 'and', 'or', 'unless'];
  const vector = (depth: number): string => {
    const r = rand();
    if (depth <= 0 || r < 0.25) {
      const sel = pick(selectors);
      return rand() < 0.2 ? `${sel} offset ${pick(ranges)}` : `${sel}${at()}`;
    }
    if (r < 0.45) {
      const inner =
        rand() < 0.8
          ? `${pick(selectors)}[${pick(ranges)}]${at()}`
          : `(${vector(depth - 1)})[${pick(ranges)}:${pick(['30s', '1m'])}]${at()}`;
      const fn = pick(rangeFns);
      if (fn.endsWith('(')) return `${fn}${inner}${extraArgs[fn] ?? ''})`;
      return `${fn}(${inner})`;
    }
    if (r < 0.6) {
      const fn = pick(elementFns);
      // Timestamps are shifted near zero: variances of raw epoch seconds cancel so badly that
      // the summation order (random inside Prometheus range evaluation) shows in the result.
      return fn === 'timestamp' ? `(timestamp(${pick(selectors)}) - 1700000000)` : `${fn}(${vector(depth - 1)})`;
    }
    if (r < 0.72) return `${pick(aggs)}${pick(groupings)} (${vector(depth - 1)})`;
    if (r < 0.8) {
      const agg = pick(['topk(2, ', 'bottomk(1, ', 'quantile(0.4, ', 'count_values("cv", ']);
      // topk/bottomk get inputs without ties: Prometheus breaks ties by an order that is
      // random in range queries.
      const input = agg.endsWith('k(2, ') || agg.endsWith('k(1, ') ? pick(['temp', 'rate(req_total[5m])', 'deriv(temp[5m])']) : vector(depth - 1);
      return `${agg.replace('(', `${pick(groupings)} (`)}${input})`;
    }
    if (r < 0.85) return `(${vector(depth - 1)}) / on(job) group_left sum by (job) (${vector(depth - 1)})`;
    const op = pick(binOps);
    if (rand() < 0.4) return `(${vector(depth - 1)}) ${op.startsWith('and') || op === 'or' || op === 'unless' ? '*' : op} ${(rand() * 10).toFixed(1)}`;
    return `(${vector(depth - 1)}) ${op} ignoring(code) (${vector(depth - 1)})`;
  };
  return Array.from({ length: count }, () => vector(3));
}

export async function runDifferential(
  log: (line: string) => void = () => {},
  queries: readonly string[] = QUERIES,
): Promise<DifferentialReport> {
  const failures: string[] = [];
  const fail = (line: string): void => {
    failures.push(line);
    log(`FAIL ${line}`);
  };
  const dir = await mkdtemp(join(tmpdir(), 'promql-diff-'));
  const data = generate();
  const input = join(dir, 'data.om');
  await writeFile(input, toOpenMetrics(data));
  const backfill = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', input, join(dir, 'tsdb')], {
    encoding: 'utf8',
  });
  if (backfill.status !== 0) throw new Error(`promtool failed: ${backfill.stderr}`);
  await writeFile(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = await freePort();
  const prom = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=100y',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prom.stderr.on('data', (b: Buffer) => (promLog += b.toString()));
  try {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/-/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus did not become ready:\n${promLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const storage = new MemoryQueryable();
    for (const s of data) storage.add(s.labels, s.timestamps, Float64Array.from(s.values));
    const engine = new PromqlEngine(storage);
    const windows: [startMs: number, endMs: number, stepMs: number][] = [
      [T0_MS + 20 * 60_000, T0_MS + 170 * 60_000, 37_000],
      [T0_MS + 15 * 60_000 + 500, T0_MS + 60 * 60_000, 60_000],
    ];
    let checked = 0;
    let bothFailed = 0;
    let points = 0;
    for (const query of queries) {
      for (const [startMs, endMs, stepMs] of windows) {
        checked++;
        const url = `${base}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${startMs / 1000}&end=${endMs / 1000}&step=${stepMs / 1000}`;
        const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: PromSeries[] } };
        let ours;
        try {
          ours = await engine.rangeQuery(query, startMs, endMs, stepMs);
        } catch (err) {
          if (body.status !== 'success') {
            bothFailed++;
            // Series order inside a Prometheus range evaluation is Go map order, so which
            // duplicate an error names varies: compare the messages without label sets.
            const withoutLabels = (m: string): string => m.replace(/\{[^}]*\}/g, '{}');
            if (!withoutLabels(body.error ?? '').endsWith(withoutLabels(errorMessage(err)))) {
              fail(`${query}: both failed, differently: ours "${errorMessage(err)}", theirs "${body.error ?? ''}"`);
            }
            continue;
          }
          fail(`${query}: we failed (${String(err)}), Prometheus answered`);
          continue;
        }
        if (body.status !== 'success') {
          fail(`${query}: Prometheus failed (${body.error ?? ''}), we answered`);
          continue;
        }
        if (ours.result.resultType !== 'matrix') throw new Error('range query gave no matrix');
        const theirs = body.data!.result.map((s) => ({
          labels: sortLabels(Object.entries(s.metric).map(([name, value]) => ({ name, value }))),
          points: s.values.map(([t, v]) => [Math.round(t * 1000), parsePromValue(v)] as const),
        }));
        theirs.sort((a, b) => compareLabels(a.labels, b.labels));
        for (const s of theirs) points += s.points.length;
        const problem = compareMatrices(
          ours.result.series.map((s) => ({
            labels: s.labels,
            points: Array.from(s.timestamps, (t, i) => [t, s.values[i]!] as const),
          })),
          theirs,
        );
        if (problem !== null) {
          fail(`${query} [${(startMs - T0_MS) / 1000}s..${(endMs - T0_MS) / 1000}s step ${stepMs / 1000}s]: ${problem}`);
        } else {
          log(`ok   ${query}`);
        }
      }
    }
    // Instant queries: the same values, and the same order of the vector elements.
    for (const query of queries) {
      for (const timeMs of [T0_MS + 95 * 60_000 + 250, T0_MS + 179 * 60_000]) {
        checked++;
        const url = `${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${timeMs / 1000}`;
        const body = (await (await fetch(url)).json()) as {
          status: string;
          error?: string;
          data?: { resultType: string; result: unknown };
        };
        let ours;
        try {
          ours = await engine.instantQuery(query, timeMs);
        } catch (err) {
          if (body.status !== 'success') {
            bothFailed++;
            const normalize = (m: string): string => (SUBQUERY.test(query) ? m.replace(/\{[^}]*\}/g, '{}') : m);
            if (!normalize(body.error ?? '').endsWith(normalize(errorMessage(err)))) {
              fail(`instant ${query}: both failed, differently: ours "${errorMessage(err)}", theirs "${body.error ?? ''}"`);
            }
            continue;
          }
          fail(`instant ${query}: we failed (${String(err)}), Prometheus answered`);
          continue;
        }
        if (body.status !== 'success' || body.data?.resultType !== 'vector' || ours.result.resultType !== 'vector') {
          if (body.data?.resultType !== ours.result.resultType) {
            fail(`instant ${query}: result type ${ours.result.resultType} vs ${body.data?.resultType ?? body.status}`);
          }
          continue;
        }
        const theirs = (body.data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
          labels: sortLabels(Object.entries(s.metric).map(([name, value]) => ({ name, value }))),
          points: [[Math.round(s.value[0] * 1000), parsePromValue(s.value[1])] as const],
        }));
        points += theirs.length;
        const mine = ours.result.samples.map((s) => ({ labels: s.labels, points: [[s.t, s.v] as const] }));
        if (query.includes('histogram_quantile') || SUBQUERY.test(query)) {
          // Prometheus emits histogram_quantile groups, and the series of a subquery evaluated
          // over several steps, in Go map order, which is random.
          mine.sort((a, b) => compareLabels(a.labels, b.labels));
          theirs.sort((a, b) => compareLabels(a.labels, b.labels));
        }
        const problem = compareMatrices(mine, theirs);
        if (problem !== null) {
          fail(`instant ${query} at ${(timeMs - T0_MS) / 1000}s (values or order): ${problem}`);
        } else {
          log(`ok   instant ${query}`);
        }
      }
    }
    return { checked, bothFailed, failures, points };
  } finally {
    prom.kill('SIGTERM');
    await new Promise((r) => prom.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

type Points = readonly (readonly [number, number])[];

function compareMatrices(
  ours: readonly { labels: Labels; points: Points }[],
  theirs: readonly { labels: Labels; points: Points }[],
): string | null {
  if (ours.length !== theirs.length) {
    return `series count ${ours.length} vs ${theirs.length}: ours ${ours.map((s) => formatLabels(s.labels)).join(' ')} | theirs ${theirs.map((s) => formatLabels(s.labels)).join(' ')}`;
  }
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]!;
    const b = theirs[i]!;
    if (compareLabels(a.labels, b.labels) !== 0) return `labels ${formatLabels(a.labels)} vs ${formatLabels(b.labels)}`;
    if (a.points.length !== b.points.length) {
      return `${formatLabels(a.labels)}: ${a.points.length} points vs ${b.points.length}`;
    }
    for (let j = 0; j < a.points.length; j++) {
      const [ta, va] = a.points[j]!;
      const [tb, vb] = b.points[j]!;
      if (ta !== tb || !almostEqual(va, vb)) {
        return `${formatLabels(a.labels)} point ${j}: ours ${va}@${ta} vs theirs ${vb}@${tb}`;
      }
    }
  }
  return null;
}

/**
 * Differential check against a real Prometheus 2.42 (the `prometheus` binary on PATH): generates
 * data, pushes it by remote write into a fresh Prometheus and into a Metricstor server, runs the
 * same range and instant queries on both over HTTP and compares every point (and, for instant
 * vectors, their order).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../config/config.js';
import { errorMessage } from '../../errors.js';
import type { Label, Labels } from '../../model/labels.js';
import { compareLabels, formatLabels, sortLabels } from '../../model/labels.js';
import { startServer } from '../../server.js';
import { PromqlEngine } from '../engine/engine.js';
import type { QueryEngine, QueryOutcome } from '../types.js';
import { MemoryQueryable } from './memory-queryable.js';
import { prng } from './prng.js';
import { prometheusOnPath, startPrometheus } from './prometheus-process.js';
import { pushInTimeSlices, type PushSeries } from './remote-write.js';

const T0_MS = 1_700_000_000_000;
const DATA_MS = 3 * 3_600_000;

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
  'sort(temp)',
  'pi() * temp',
  'deg(rad(temp))',
  'ceil(temp) - floor(temp)',
  'temp != on(room, floor) temp offset 1m',
  'temp >= 20',
  'temp <= bool 20',
  'up unless ignoring(instance) up{instance="x"}',
  'rate(req_total[5m]) * ignoring(code) group_left(floor) max by (job) (temp)',
  'histogram_count(temp)',
  'histogram_sum(temp)',
  'histogram_fraction(0, 0.5, temp)',
  'sum by (job) (rate(req_total[5m] @ start() offset -10m))',
  'scalar(temp)',
  'scalar(max(temp))',
  'count(temp) + 1',
  '2 ^ 3 ^ 0.5',
  'time()',
  'vector(time()) - on() group_left max(timestamp(up))',
];

/**
 * Systematic coverage on top of the hand-written list: every range function over counters and
 * gauges with short and long windows, plain, with offset and with @; every element-wise math
 * function; every aggregation with each grouping; every binary operator with one-to-one and
 * scalar operands, with and without bool.
 */
function coverageQueries(): string[] {
  const out: string[] = [];
  const rangeFns: readonly (readonly [string, string])[] = [
    ['rate(', ')'], ['irate(', ')'], ['increase(', ')'], ['delta(', ')'], ['idelta(', ')'], ['deriv(', ')'],
    ['resets(', ')'], ['changes(', ')'], ['predict_linear(', ', 120)'], ['holt_winters(', ', 0.5, 0.5)'],
    ['avg_over_time(', ')'], ['sum_over_time(', ')'], ['min_over_time(', ')'], ['max_over_time(', ')'],
    ['count_over_time(', ')'], ['stddev_over_time(', ')'], ['stdvar_over_time(', ')'], ['last_over_time(', ')'],
    ['present_over_time(', ')'], ['absent_over_time(', ')'], ['quantile_over_time(0.9, ', ')'],
  ];
  const modifiers = ['', ' offset 10m', ' @ 1700007200'];
  for (const [open, close] of rangeFns) {
    for (const selector of ['req_total{job="api"}', 'temp']) {
      for (const window of ['1m', '6m']) {
        for (const modifier of modifiers) out.push(`${open}${selector}[${window}]${modifier}${close}`);
      }
    }
  }
  const mathFns = [
    'abs', 'ceil', 'floor', 'exp', 'ln', 'log2', 'log10', 'sqrt', 'sgn', 'round', 'sin', 'cos', 'tan', 'asin', 'acos',
    'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'deg', 'rad', 'timestamp',
  ];
  // temp / 30 stays inside (-1, 1), where asin, acos and atanh are defined; temp is outside.
  for (const fn of mathFns) for (const input of ['temp', 'temp / 30']) out.push(`${fn}(${input})`);
  for (const agg of ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar']) {
    for (const grouping of ['', ' by (floor)', ' without (room)', ' by (job, code)']) {
      out.push(`${agg}${grouping} (${grouping.includes('code') ? 'req_total' : 'temp'})`);
    }
  }
  for (const param of ['topk(1, ', 'bottomk(3, ', 'quantile(0.25, ', 'count_values("value", ']) {
    for (const grouping of ['', ' by (floor)']) out.push(`${param.replace('(', `${grouping} (`)}temp)`);
  }
  const arithmetic = ['+', '-', '*', '/', '%', '^', 'atan2'];
  const comparison = ['==', '!=', '>', '<', '>=', '<='];
  for (const op of [...arithmetic, ...comparison]) {
    out.push(`temp ${op} on(room, floor) (temp offset 2m)`);
    out.push(`temp ${op} 20.5`);
  }
  for (const op of comparison) {
    out.push(`temp ${op} bool on(room, floor) (temp offset 2m)`);
    out.push(`20.5 ${op} bool temp`);
  }
  for (const op of ['and', 'or', 'unless']) {
    out.push(`temp{floor="1"} ${op} temp{room=~"[ac]"}`);
    out.push(`temp ${op} on(floor) temp{room="c"}`);
    out.push(`temp ${op} ignoring(room) temp{room="b"}`);
  }
  return out;
}

/** The hand-written queries followed by the systematic ones, without repeats. */
export const DIFFERENTIAL_QUERIES: readonly string[] = [...new Set([...QUERIES, ...coverageQueries()])];

interface SeriesPoints {
  readonly labels: Labels;
  readonly points: Points;
}

/** One query's answer in a form both sides can be compared in; times in milliseconds. */
export type Answer =
  | { readonly ok: true; readonly resultType: string; readonly series: readonly SeriesPoints[] }
  | { readonly ok: false; readonly error: string };

/** Something that answers PromQL queries: a server over HTTP or an engine in this process. */
export interface QueryTarget {
  instant(query: string, timeMs: number): Promise<Answer>;
  range(query: string, startMs: number, endMs: number, stepMs: number): Promise<Answer>;
}

function parsePromValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

type JsonPoint = [number, string];

function labelsOf(metric: Record<string, string>): Labels {
  return sortLabels(Object.entries(metric).map(([name, value]) => ({ name, value })));
}

function point([t, v]: JsonPoint): readonly [number, number] {
  return [Math.round(t * 1000), parsePromValue(v)];
}

/** Asks a Prometheus-compatible HTTP API (/api/v1/query, /api/v1/query_range). */
export function httpTarget(baseUrl: string): QueryTarget {
  const ask = async (path: string, params: Record<string, string>): Promise<Answer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success' || body.data === undefined) return { ok: false, error: body.error ?? `HTTP ${res.status}` };
    const { resultType, result } = body.data;
    let series: SeriesPoints[];
    if (resultType === 'matrix') {
      series = (result as { metric: Record<string, string>; values: JsonPoint[] }[]).map((s) => ({
        labels: labelsOf(s.metric),
        points: s.values.map(point),
      }));
    } else if (resultType === 'vector') {
      series = (result as { metric: Record<string, string>; value: JsonPoint }[]).map((s) => ({
        labels: labelsOf(s.metric),
        points: [point(s.value)],
      }));
    } else if (resultType === 'scalar') {
      series = [{ labels: [], points: [point(result as JsonPoint)] }];
    } else {
      series = [];
    }
    return { ok: true, resultType, series };
  };
  return {
    instant: (query, timeMs) => ask('/api/v1/query', { query, time: String(timeMs / 1000) }),
    range: (query, startMs, endMs, stepMs) =>
      ask('/api/v1/query_range', { query, start: String(startMs / 1000), end: String(endMs / 1000), step: String(stepMs / 1000) }),
  };
}

/** Asks an engine directly, skipping storage and HTTP: the quick engine-only mode. */
export function engineTarget(engine: QueryEngine): QueryTarget {
  const answer = async (run: () => Promise<QueryOutcome>): Promise<Answer> => {
    let outcome: QueryOutcome;
    try {
      outcome = await run();
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
    const r = outcome.result;
    switch (r.resultType) {
      case 'matrix':
        return {
          ok: true,
          resultType: r.resultType,
          series: r.series.map((s) => ({ labels: s.labels, points: Array.from(s.timestamps, (t, i) => [t, s.values[i]!] as const) })),
        };
      case 'vector':
        return { ok: true, resultType: r.resultType, series: r.samples.map((s) => ({ labels: s.labels, points: [[s.t, s.v] as const] })) };
      case 'scalar':
        return { ok: true, resultType: r.resultType, series: [{ labels: [], points: [[r.t, r.v] as const] }] };
      case 'string':
        return { ok: true, resultType: r.resultType, series: [] };
    }
  };
  return {
    instant: (query, timeMs) => answer(() => engine.instantQuery(query, timeMs)),
    range: (query, startMs, endMs, stepMs) => answer(() => engine.rangeQuery(query, startMs, endMs, stepMs)),
  };
}

export interface DifferentialReport {
  readonly checked: number;
  /** Queries both sides rejected (counted as agreeing). */
  readonly bothFailed: number;
  readonly failures: readonly string[];
  readonly points: number;
  /** Which Metricstor was asked: a real server over HTTP, or the engine over in-memory data. */
  readonly mode: DifferentialMode;
}

/**
 * 'http': the data goes by remote write into a Metricstor server (embedded KV in a temporary
 * directory) and both sides are queried over HTTP. 'memory': our engine over in-memory data,
 * without storage or HTTP, for quick engine-only runs.
 */
export type DifferentialMode = 'http' | 'memory';

export interface DifferentialOptions {
  readonly log?: (line: string) => void;
  readonly queries?: readonly string[];
  readonly mode?: DifferentialMode;
}

/** True when the prometheus binary can be run. */
export function prometheusAvailable(): boolean {
  return prometheusOnPath();
}

/** Range windows (start, end, step) and instant times every query is run at. */
const RANGE_WINDOWS: readonly (readonly [startMs: number, endMs: number, stepMs: number])[] = [
  [T0_MS + 20 * 60_000, T0_MS + 170 * 60_000, 37_000],
  [T0_MS + 15 * 60_000 + 500, T0_MS + 60 * 60_000, 60_000],
];
const INSTANT_TIMES_MS: readonly number[] = [T0_MS + 41 * 60_000 + 7_300, T0_MS + 95 * 60_000 + 250, T0_MS + 179 * 60_000];
/** Queries in flight at once: both servers are other processes or async, so this hides latency. */
const CONCURRENCY = 4;
/** Samples per remote-write request slice, in data time. */
const PUSH_SLICE_MS = 20 * 60_000;

function pushable(series: readonly GeneratedSeries[]): PushSeries[] {
  return series.map((s) => ({
    labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
    timestamps: s.timestamps,
    values: Float64Array.from(s.values),
  }));
}

async function startMetricstor(series: readonly PushSeries[]): Promise<{ target: QueryTarget; stop: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'metricstor-diff-'));
  const server = await startServer({
    ...DEFAULT_CONFIG,
    server: { ...DEFAULT_CONFIG.server, httpAddr: '127.0.0.1:0', grpcAddr: '127.0.0.1:0' },
    // The data is from 2023: retention must not delete it while the check runs.
    storage: { ...DEFAULT_CONFIG.storage, dataDir, retentionDays: 36_500 },
  });
  const stop = async (): Promise<void> => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await pushInTimeSlices(`http://${server.httpAddress}`, series, PUSH_SLICE_MS);
  } catch (err) {
    await stop();
    throw err;
  }
  return { target: httpTarget(`http://${server.httpAddress}`), stop };
}

/**
 * Pushes the generated data to a fresh Prometheus and to Metricstor, runs every query as range
 * queries over RANGE_WINDOWS and as instant queries at INSTANT_TIMES_MS on both, and compares.
 */
export async function runDifferential(options: DifferentialOptions = {}): Promise<DifferentialReport> {
  const log = options.log ?? (() => {});
  const queries = options.queries ?? DIFFERENTIAL_QUERIES;
  const mode = options.mode ?? 'http';
  const data = generate();
  const series = pushable(data);
  const stops: (() => Promise<void>)[] = [];
  try {
    const prometheus = await startPrometheus();
    stops.push(prometheus.stop);
    await pushInTimeSlices(prometheus.baseUrl, series, PUSH_SLICE_MS);
    const theirs = httpTarget(prometheus.baseUrl);
    let ours: QueryTarget;
    if (mode === 'http') {
      const metricstor = await startMetricstor(series);
      stops.push(metricstor.stop);
      ours = metricstor.target;
    } else {
      const storage = new MemoryQueryable();
      for (const s of data) storage.add(s.labels, s.timestamps, Float64Array.from(s.values));
      ours = engineTarget(new PromqlEngine(storage));
    }
    return { ...(await compareAll(ours, theirs, queries, log)), mode };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
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

interface Case {
  readonly query: string;
  readonly label: string;
  readonly run: (target: QueryTarget) => Promise<Answer>;
  readonly instant: boolean;
}

async function compareAll(
  ours: QueryTarget,
  theirs: QueryTarget,
  queries: readonly string[],
  log: (line: string) => void,
): Promise<Omit<DifferentialReport, 'mode'>> {
  const cases: Case[] = [];
  for (const query of queries) {
    for (const [startMs, endMs, stepMs] of RANGE_WINDOWS) {
      cases.push({
        query,
        instant: false,
        label: `${query} [${(startMs - T0_MS) / 1000}s..${(endMs - T0_MS) / 1000}s step ${stepMs / 1000}s]`,
        run: (t) => t.range(query, startMs, endMs, stepMs),
      });
    }
  }
  for (const query of queries) {
    for (const timeMs of INSTANT_TIMES_MS) {
      cases.push({ query, instant: true, label: `instant ${query} at ${(timeMs - T0_MS) / 1000}s`, run: (t) => t.instant(query, timeMs) });
    }
  }
  const failures: string[] = [];
  let bothFailed = 0;
  let points = 0;
  const check = async (c: Case): Promise<void> => {
    const [mine, reference] = await Promise.all([c.run(ours), c.run(theirs)]);
    const problem = compareAnswers(c, mine, reference);
    if (!mine.ok && !reference.ok) bothFailed++;
    if (reference.ok) points += reference.series.reduce((n, s) => n + s.points.length, 0);
    if (problem === null) {
      log(`ok   ${c.label}`);
    } else {
      failures.push(`${c.label}: ${problem}`);
      log(`FAIL ${c.label}: ${problem}`);
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) await check(cases[next++]!);
    }),
  );
  failures.sort();
  return { checked: cases.length, bothFailed, failures, points };
}

/** Null when the answers agree, else what differs. */
export function compareAnswers(c: Pick<Case, 'query' | 'instant'>, ours: Answer, theirs: Answer): string | null {
  if (!ours.ok || !theirs.ok) {
    if (ours.ok) return `Prometheus failed (${theirs.ok ? '' : theirs.error}), we answered`;
    if (theirs.ok) return `we failed (${ours.error}), Prometheus answered`;
    // Series order inside a Prometheus range evaluation (and a subquery's) is Go map order, so
    // which duplicate an error names varies: there, compare the messages without label sets.
    const withoutLabels = !c.instant || SUBQUERY.test(c.query);
    const normalize = (m: string): string => (withoutLabels ? m.replace(/\{[^}]*\}/g, '{}') : m);
    if (normalize(theirs.error).endsWith(normalize(ours.error))) return null;
    return `both failed, differently: ours "${ours.error}", theirs "${theirs.error}"`;
  }
  if (ours.resultType !== theirs.resultType) return `result type ${ours.resultType} vs ${theirs.resultType}`;
  const mine = [...ours.series];
  const reference = [...theirs.series];
  if (!c.instant) {
    // A range result is sorted by labels in Prometheus; ours must already be.
    reference.sort((a, b) => compareLabels(a.labels, b.labels));
  } else if (c.query.includes('histogram_quantile') || SUBQUERY.test(c.query)) {
    // Prometheus emits histogram_quantile groups, and the series of a subquery evaluated over
    // several steps, in Go map order, which is random. Elsewhere the order must match.
    mine.sort((a, b) => compareLabels(a.labels, b.labels));
    reference.sort((a, b) => compareLabels(a.labels, b.labels));
  }
  return compareMatrices(mine, reference);
}

/** Relative tolerance on values; NaN equals NaN, infinities must match exactly. */
const RELATIVE_TOLERANCE = 1e-9;

export function closeEnough(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

type Points = readonly (readonly [number, number])[];

function compareMatrices(ours: readonly SeriesPoints[], theirs: readonly SeriesPoints[]): string | null {
  if (ours.length !== theirs.length) {
    return `series count ${ours.length} vs ${theirs.length}: ours ${ours.map((s) => formatLabels(s.labels)).join(' ')} | theirs ${theirs.map((s) => formatLabels(s.labels)).join(' ')}`;
  }
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]!;
    const b = theirs[i]!;
    if (compareLabels(a.labels, b.labels) !== 0) return `labels ${formatLabels(a.labels)} vs ${formatLabels(b.labels)} (values or order)`;
    if (a.points.length !== b.points.length) {
      return `${formatLabels(a.labels)}: ${a.points.length} points vs ${b.points.length}`;
    }
    for (let j = 0; j < a.points.length; j++) {
      const [ta, va] = a.points[j]!;
      const [tb, vb] = b.points[j]!;
      if (ta !== tb || !closeEnough(va, vb)) {
        return `${formatLabels(a.labels)} point ${j}: ours ${va}@${ta} vs theirs ${vb}@${tb}`;
      }
    }
  }
  return null;
}

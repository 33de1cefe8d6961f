/**
 * The query half of the comparison benchmark: asks every system the same list of PromQL queries
 * (query-list.ts) as an instant query at the end of the data and as range queries over its last
 * 30 minutes (step 30 s) and last 24 hours (step 5 min), times them, and checks that the answers
 * agree with Prometheus's.
 *
 * One request at a time. Per query and kind, each system gets one warm-up request (its answer is
 * the one compared), then the timed repetitions go round the systems in turn, so load from other
 * processes on the machine falls on all of them alike. A request that outlasts the timeout counts
 * as failed, and that system gets no further repetitions of it.
 */
import { answerSize, answersDiffer, parseAnswer, type QueryAnswer } from './query-answer.js';
import { QUERY_KINDS, queryRequest, timedQuery, type QueryKind, type TimedResponse } from './query-http.js';
import { BENCH_QUERIES, type BenchQuery } from './query-list.js';
import { cpuSeconds } from './proc-stats.js';
import type { AnswerMismatch, QueryMeasurement, QueryReport } from './query-report.js';

export type { BenchQuery } from './query-list.js';
export type { QueryKind } from './query-http.js';
export type { AnswerMismatch, QueryMeasurement, QueryReport } from './query-report.js';
export { BENCH_QUERIES } from './query-list.js';
export { renderQueryReport } from './query-report.js';

export interface QueryTarget {
  readonly name: string;
  /** For example http://127.0.0.1:9090. */
  readonly baseUrl: string;
  /** The server's process, when it is one of its own: its CPU time per request is then reported too. */
  readonly pid?: number;
}

export interface QueryBenchOptions {
  readonly dataStartMs: number;
  /** Instant queries are at this time and range queries end at it: the last sample of the data. */
  readonly dataEndMs: number;
  /** Timed repetitions per query, kind and system, after one warm-up. */
  readonly reps: number;
  readonly hostsInData: number;
  /** Per request; default 60 s. */
  readonly timeoutMs?: number;
  /** Default: every query of the benchmark. */
  readonly queries?: readonly BenchQuery[];
  /** Default: instant, range 30m and range 24h. */
  readonly kinds?: readonly QueryKind[];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** The system whose answers are right by definition. */
export const ANSWER_REFERENCE = 'prometheus';
/** VictoriaMetrics answers MetricsQL, which differs from PromQL on purpose (rate extrapolation, staleness). */
const INFORMATIONAL_SYSTEMS: readonly string[] = ['victoriametrics'];
const DEFAULT_TIMEOUT_MS = 60_000;
const PROGRESS_EVERY = 25;

/** Extra parameters per system: VictoriaMetrics would otherwise answer repetitions from its result cache. */
function extraParams(target: QueryTarget): Record<string, string> {
  return target.name.toLowerCase().includes('victoria') ? { nocache: '1' } : {};
}

function failureOf(response: TimedResponse, answer: QueryAnswer | undefined, timeoutMs: number): string | undefined {
  if (response.timedOut) return `timed out after ${timeoutMs / 1000} s`;
  if (answer !== undefined && !answer.ok) return answer.error.slice(0, 300);
  if (response.status !== 200) return `HTTP ${response.status}: ${response.body.slice(0, 300)}`;
  return undefined;
}

interface Pending {
  readonly target: QueryTarget;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly timesMs: number[];
  /** Server CPU over the timed requests whose CPU was read, and how many those were. */
  serverCpuS: number;
  cpuReads: number;
  failure: string | undefined;
  answer: QueryAnswer | undefined;
}

export async function benchmarkQueries(targets: readonly QueryTarget[], opts: QueryBenchOptions): Promise<QueryReport> {
  const queries = opts.queries ?? BENCH_QUERIES;
  const kinds = opts.kinds ?? QUERY_KINDS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = opts.log ?? ((): void => {});
  const reference = targets.find((t) => t.name === ANSWER_REFERENCE);
  const measurements: QueryMeasurement[] = [];
  const mismatches: AnswerMismatch[] = [];
  let answersCompared = 0;
  const started = performance.now();

  for (const [index, { cls, query }] of queries.entries()) {
    if (index > 0 && index % PROGRESS_EVERY === 0) {
      log(`queries: ${index}/${queries.length} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    for (const kind of kinds) {
      const { path, params } = queryRequest(kind, query, opts.dataEndMs);
      const pending: Pending[] = targets.map((target) => ({
        target,
        path,
        params: { ...params, ...extraParams(target) },
        timesMs: [],
        serverCpuS: 0,
        cpuReads: 0,
        failure: undefined,
        answer: undefined,
      }));
      for (const p of pending) {
        const warm = await timedQuery(p.target.baseUrl, p.path, p.params, timeoutMs);
        p.answer = warm.timedOut ? undefined : parseAnswer(warm.status, warm.body);
        p.failure = failureOf(warm, p.answer, timeoutMs);
        if (warm.timedOut) p.timesMs.push(timeoutMs);
      }
      for (let rep = 0; rep < opts.reps; rep++) {
        for (const p of pending) {
          if (p.failure !== undefined) continue;
          const cpuBefore = p.target.pid === undefined ? 0 : cpuSeconds(p.target.pid);
          const timed = await timedQuery(p.target.baseUrl, p.path, p.params, timeoutMs);
          if (p.target.pid !== undefined) {
            p.serverCpuS += cpuSeconds(p.target.pid) - cpuBefore;
            p.cpuReads++;
          }
          p.timesMs.push(timed.timedOut ? timeoutMs : timed.ms);
          if (timed.timedOut || timed.status !== 200) p.failure = failureOf(timed, undefined, timeoutMs);
        }
      }
      const referenceAnswer = pending.find((p) => p.target === reference)?.answer;
      for (const p of pending) {
        const size = p.answer === undefined ? { series: 0, points: 0 } : answerSize(p.answer);
        measurements.push({
          system: p.target.name,
          cls,
          query,
          kind,
          timesMs: p.answer !== undefined && !p.answer.ok ? [] : p.timesMs,
          ...(p.failure === undefined ? {} : { failure: p.failure }),
          ...(p.cpuReads === 0 ? {} : { cpuMs: (p.serverCpuS * 1000) / p.cpuReads }),
          ...size,
        });
        if (referenceAnswer === undefined || p.target === reference || p.answer === undefined) continue;
        const detail = answersDiffer(p.answer, referenceAnswer, p.target.name, ANSWER_REFERENCE);
        if (detail !== null) mismatches.push({ system: p.target.name, cls, query, kind, detail });
      }
      if (referenceAnswer !== undefined) answersCompared++;
    }
  }
  log(`queries: ${queries.length}/${queries.length} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return {
    systems: targets.map((t) => t.name),
    reps: opts.reps,
    timeoutMs,
    measurements,
    answerReference: reference === undefined ? null : ANSWER_REFERENCE,
    informational: INFORMATIONAL_SYSTEMS.filter((s) => targets.some((t) => t.name === s)),
    answersCompared,
    mismatches,
  };
}

import { MetricstorError, badData } from '../../errors.js';
import { compareLabels } from '../../model/labels.js';
import type { Queryable } from '../../storage/types.js';
import type { Expr } from '../parser/ast.js';
import { parseExpr } from '../parser/index.js';
import type {
  EngineLimits,
  MatrixSeries,
  QueryEngine,
  QueryOptions,
  QueryOutcome,
  QueryResult,
  VectorSample,
} from '../types.js';
import { DEFAULT_ENGINE_LIMITS } from '../types.js';
import { canceledError, timeoutError, tooManySamplesError } from './errors.js';
import { Evaluator, unwrap } from './evaluator.js';
import { preprocess } from './preprocess.js';
import { fetchSelectors, planSelectors } from './select.js';
import type { EvalValue, StepGrid } from './values.js';
import { makeGrid, stepTime } from './values.js';

export interface EngineOptions {
  /** Turns query text into an AST (default: the PromQL parser); errors must be bad_data. */
  readonly parse?: (query: string) => Expr;
  readonly limits?: Partial<EngineLimits>;
  /** Step of subqueries written without one (`[5m:]`); Prometheus uses the evaluation interval, 1m. */
  readonly defaultSubqueryStepMs?: number;
}

/** The PromQL engine over any Queryable: an instant query is a range query with one step. */
export class PromqlEngine implements QueryEngine {
  private readonly limits: EngineLimits;
  private readonly defaultSubqueryStepMs: number;
  private readonly parse: (query: string) => Expr;

  constructor(
    private readonly queryable: Queryable,
    options: EngineOptions = {},
  ) {
    this.parse = options.parse ?? parseExpr;
    this.limits = { ...DEFAULT_ENGINE_LIMITS, ...options.limits };
    this.defaultSubqueryStepMs = options.defaultSubqueryStepMs ?? 60_000;
  }

  async instantQuery(query: string, timeMs: number, options: QueryOptions = {}): Promise<QueryOutcome> {
    return this.evaluateInstant(this.parse(query), timeMs, options);
  }

  async rangeQuery(
    query: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    options: QueryOptions = {},
  ): Promise<QueryOutcome> {
    return this.evaluateRange(this.parse(query), startMs, endMs, stepMs, options);
  }

  async evaluateInstant(expr: Expr, timeMs: number, options: QueryOptions = {}): Promise<QueryOutcome> {
    const value = await this.run(expr, makeGrid(timeMs, timeMs, 1), options);
    return { result: instantResult(value, timeMs), warnings: [] };
  }

  async evaluateRange(
    expr: Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
    options: QueryOptions = {},
  ): Promise<QueryOutcome> {
    if (!(stepMs > 0)) {
      throw badData('zero or negative query resolution step widths are not accepted. Try a positive integer');
    }
    if (endMs < startMs) throw badData('end timestamp must not be before start time');
    if (Math.floor((endMs - startMs) / stepMs) + 1 > this.limits.maxPointsPerSeries) {
      throw badData(
        `exceeded maximum resolution of ${this.limits.maxPointsPerSeries.toLocaleString('en-US')} points ` +
          'per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    const bare = unwrap(expr);
    if (bare.kind === 'MatrixSelector' || bare.kind === 'SubqueryExpr' || bare.kind === 'StringLiteral') {
      const type = bare.kind === 'StringLiteral' ? 'string' : 'range vector';
      throw badData(`invalid expression type "${type}" for range query, must be Scalar or instant Vector`);
    }
    const grid = makeGrid(startMs, endMs, stepMs);
    const value = await this.run(expr, grid, options);
    return { result: rangeResult(value, grid), warnings: [] };
  }

  private async run(expr: Expr, grid: StepGrid, options: QueryOptions): Promise<EvalValue> {
    const timeoutMs = options.timeoutMs ?? this.limits.timeoutMs;
    const deadlineMs = Date.now() + timeoutMs;
    const lookbackMs =
      options.lookbackDeltaMs !== undefined && options.lookbackDeltaMs > 0
        ? options.lookbackDeltaMs
        : this.limits.lookbackDeltaMs;
    // Storage reads and evaluation run without giving the event loop back; yielding before and
    // between them lets health probes, writes and the query gate's refusals through in between.
    await yieldToEventLoop();
    if (options.signal?.aborted) throw canceledError();
    const prepared = preprocess(expr, grid.startMs, grid.endMs);
    const plans = planSelectors(prepared, grid.startMs, grid.endMs, lookbackMs, this.defaultSubqueryStepMs);
    const data = await withDeadline(fetchSelectors(this.queryable, plans), deadlineMs, options.signal);
    let loadedSamples = 0;
    for (const series of data.values()) for (const s of series) loadedSamples += s.timestamps.length;
    if (loadedSamples > this.limits.maxSamples) throw tooManySamplesError();
    await yieldToEventLoop();
    const evaluator = new Evaluator({
      data,
      lookbackMs,
      defaultSubqueryStepMs: this.defaultSubqueryStepMs,
      maxSamples: this.limits.maxSamples,
      loadedSamples,
      deadlineMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      return evaluator.eval(prepared, grid);
    } catch (err) {
      if (err instanceof MetricstorError) throw err;
      // Allocation failures of typed arrays mean the query is too big for memory.
      if (err instanceof RangeError && /array (buffer allocation|length)/i.test(err.message)) {
        throw tooManySamplesError();
      }
      throw new MetricstorError('internal', `unexpected error: ${String(err)}`, { cause: err });
    }
  }
}

/**
 * Lets pending I/O (other requests) run. A query starts in the poll phase, where one setImmediate
 * would fire in the same loop iteration, before any new I/O is read; the second one fires only
 * after the next poll phase.
 */
async function yieldToEventLoop(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** Waits for storage, giving up at the deadline or when the caller aborts. */
async function withDeadline<T>(work: Promise<T>, deadlineMs: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), Math.max(0, deadlineMs - Date.now()));
    if (signal) {
      onAbort = () => reject(canceledError());
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, stop]);
  } finally {
    clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function instantResult(value: EvalValue, timeMs: number): QueryResult {
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', t: timeMs, v: value.values[0]! };
    case 'string':
      return { resultType: 'string', t: timeMs, value: value.value };
    case 'vector': {
      const samples: VectorSample[] = [];
      for (const s of value.series) {
        if (s.present[0] === 1) samples.push({ labels: s.labels, t: timeMs, v: s.values[0]! });
      }
      return { resultType: 'vector', samples };
    }
    case 'matrix':
      return { resultType: 'matrix', series: value.series };
  }
}

/** A range result as Prometheus returns it: series without points left out, sorted by labels. */
function rangeResult(value: EvalValue, grid: StepGrid): QueryResult {
  const series: MatrixSeries[] = [];
  const collect = (labels: MatrixSeries['labels'], values: Float64Array, present: Uint8Array | null): void => {
    let n = 0;
    for (let i = 0; i < grid.steps; i++) if (present === null || present[i] === 1) n++;
    if (n === 0) return;
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < grid.steps; i++) {
      if (present !== null && present[i] !== 1) continue;
      ts[k] = stepTime(grid, i);
      vs[k] = values[i]!;
      k++;
    }
    series.push({ labels, timestamps: ts, values: vs });
  };
  if (value.type === 'scalar') collect([], value.values, null);
  else if (value.type === 'vector') for (const s of value.series) collect(s.labels, s.values, s.present);
  else throw badData(`invalid expression type "${value.type}" for range query, must be Scalar or instant Vector`);
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  return { resultType: 'matrix', series };
}

/** /api/v1/query, /query_range, /query_exemplars and /format_query. */
import { badData, isMetricstorError } from '../../errors.js';
import type { Expr } from '../../promql/parser/ast.js';
import type { QueryOptions, QueryOutcome, QueryResult } from '../../promql/types.js';
import type { ApiDeps } from '../deps.js';
import { TRUNCATED_WARNING, type ApiHandler, type ApiRequest } from '../handler.js';
import { QueryData } from '../json.js';
import { NO_CONTENT } from '../respond.js';
import {
  invalidParam,
  limitParam,
  MAX_TIME_MS,
  MIN_TIME_MS,
  optionalTimeParam,
  parseDurationNs,
  rangeParams,
} from '../params.js';

export const instantQuery: ApiHandler = async (req, deps) => {
  const timeMs = optionalTimeParam(req.params, 'time', deps.nowMs());
  const options = queryOptions(req, deps);
  const limit = limitParam(req.params);
  let outcome: QueryOutcome;
  try {
    outcome = await deps.engine.instantQuery(req.params.get('query'), timeMs, options);
  } catch (err) {
    // Prometheus reports a query that does not parse as a bad "query" parameter.
    if (isMetricstorError(err) && err.type === 'bad_data') throw invalidParam('query', err.message);
    throw err;
  }
  return answer(outcome, limit);
};

export const rangeQuery: ApiHandler = async (req, deps) => {
  const { startMs, endMs, stepMs } = rangeParams(req.params, deps.promql.parseDurationMs);
  const options = queryOptions(req, deps);
  const limit = limitParam(req.params);
  const outcome = await deps.engine.rangeQuery(req.params.get('query'), startMs, endMs, stepMs, options);
  return answer(outcome, limit);
};

/** timeout (can only shorten the server's), lookback_delta (<= 0 means the default) and the abort signal. */
function queryOptions(req: ApiRequest, deps: ApiDeps): QueryOptions {
  let timeoutMs = deps.queryTimeoutMs;
  const timeoutText = req.params.get('timeout');
  if (timeoutText !== '') {
    let ns: number;
    try {
      ns = parseDurationNs(timeoutText, deps.promql.parseDurationMs);
    } catch (err) {
      throw invalidParam('timeout', (err as Error).message);
    }
    timeoutMs = Math.max(0, Math.min(timeoutMs, Math.trunc(ns / 1e6)));
  }
  const lookbackText = req.params.get('lookback_delta');
  let lookbackDeltaMs: number | undefined;
  if (lookbackText !== '') {
    let ns: number;
    try {
      ns = parseDurationNs(lookbackText, deps.promql.parseDurationMs);
    } catch (err) {
      throw badData(`error parsing lookback delta duration: ${(err as Error).message}`);
    }
    if (ns > 0) lookbackDeltaMs = Math.max(1, Math.trunc(ns / 1e6));
  }
  return lookbackDeltaMs === undefined
    ? { timeoutMs, signal: req.signal }
    : { timeoutMs, signal: req.signal, lookbackDeltaMs };
}

/** Applies `limit` (series of a vector or matrix) as newer Prometheus versions do. */
function answer(outcome: QueryOutcome, limit: number): { data: QueryData; warnings: readonly string[] } {
  let result: QueryResult = outcome.result;
  const warnings = [...outcome.warnings];
  if (limit > 0) {
    if (result.resultType === 'vector' && result.samples.length > limit) {
      result = { resultType: 'vector', samples: result.samples.slice(0, limit) };
      warnings.push(TRUNCATED_WARNING);
    } else if (result.resultType === 'matrix' && result.series.length > limit) {
      result = { resultType: 'matrix', series: result.series.slice(0, limit) };
      warnings.push(TRUNCATED_WARNING);
    }
  }
  return { data: new QueryData(result), warnings };
}

/** Metricstor keeps no exemplars: a valid query gets an empty list (204 when it selects nothing). */
export const queryExemplars: ApiHandler = async (req, deps) => {
  const startMs = optionalTimeParam(req.params, 'start', MIN_TIME_MS);
  const endMs = optionalTimeParam(req.params, 'end', MAX_TIME_MS);
  if (endMs < startMs) throw invalidParam('end', 'end timestamp must not be before start time');
  const expr = deps.promql.parseExpr(req.params.get('query'));
  if (!hasSelector(expr)) return NO_CONTENT;
  return { data: [] };
};

function hasSelector(expr: Expr): boolean {
  switch (expr.kind) {
    case 'VectorSelector':
    case 'MatrixSelector':
      return true;
    case 'NumberLiteral':
    case 'StringLiteral':
      return false;
    case 'Call':
      return expr.args.some(hasSelector);
    case 'AggregateExpr':
      return hasSelector(expr.expr) || (expr.param !== null && hasSelector(expr.param));
    case 'BinaryExpr':
      return hasSelector(expr.lhs) || hasSelector(expr.rhs);
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return hasSelector(expr.expr);
  }
}

export const formatQuery: ApiHandler = async (req, deps) => {
  let expr: Expr;
  try {
    expr = deps.promql.parseExpr(req.params.get('query'));
  } catch (err) {
    if (isMetricstorError(err) && err.type === 'bad_data') throw invalidParam('query', err.message);
    throw err;
  }
  return { data: deps.promql.formatExpr(expr) };
};

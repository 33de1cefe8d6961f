/**
 * The MetricstorQuery service. Each call is turned into the parameters of the HTTP endpoint of the
 * same name and answered by that endpoint's handler, so both APIs share one meaning: the same
 * defaults, limits, validation and error texts. Only the encoding of the answer differs.
 */
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ApiDeps } from '../api/deps.js';
import type { ApiHandler } from '../api/handler.js';
import { instantQuery, rangeQuery } from '../api/handlers/query.js';
import { labelNames, labelValues, series } from '../api/handlers/series.js';
import { buildInfo, tsdbStatus } from '../api/handlers/status.js';
import { QueryData } from '../api/json.js';
import { RequestParams } from '../api/params.js';
import { NO_CONTENT } from '../api/respond.js';
import { MetricstorError } from '../errors.js';
import type {
  BuildInfoRequest,
  BuildInfoResponse,
  HealthRequest,
  HealthResponse,
  LabelNamesRequest,
  LabelValuesRequest,
  QueryRangeRequest,
  QueryRequest,
  SeriesRequest,
  StatsRequest,
  LabelNamesResponse,
  LabelValuesResponse,
  NameCount,
  QueryResponse,
  SeriesResponse,
  StatsResponse,
} from '../generated/metricstor/metricstor/v1/query.js';
import { labelsFromObject, queryResponse, secondsParam } from './convert.js';
import { toServiceError } from './status.js';

type Params = [string, string][];

interface HandlerAnswer {
  readonly data: unknown;
  readonly warnings: readonly string[];
}

/** Runs an HTTP handler for a call, with the call's deadline and cancellation. */
async function runHandler(
  handler: ApiHandler,
  params: Params,
  deps: ApiDeps,
  call: ServerUnaryCall<unknown, unknown>,
  pathParams: Record<string, string> = {},
): Promise<HandlerAnswer> {
  const abort = new AbortController();
  const onCancel = (): void => abort.abort(new MetricstorError('canceled', 'the client cancelled the call'));
  call.once('cancelled', onCancel);
  const remainingMs = deadlineRemainingMs(call);
  let timer: NodeJS.Timeout | undefined;
  try {
    if (remainingMs !== undefined && remainingMs <= 0) throw new MetricstorError('timeout', 'deadline exceeded');
    const work = handler({ params: new RequestParams([new URLSearchParams(params)]), pathParams, signal: abort.signal }, deps);
    const result =
      remainingMs === undefined
        ? await work
        : await Promise.race([
            work,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                abort.abort();
                reject(new MetricstorError('timeout', 'deadline exceeded'));
              }, remainingMs);
            }),
          ]);
    if (result === NO_CONTENT) return { data: null, warnings: [] };
    return { data: result.data, warnings: result.warnings ?? [] };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    call.off('cancelled', onCancel);
  }
}

function deadlineRemainingMs(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  const atMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(atMs) ? atMs - Date.now() : undefined;
}

/** The query timeout: the request's, shortened to what is left of the call's deadline. */
function timeoutParam(call: ServerUnaryCall<unknown, unknown>, timeoutMs: number | undefined): Params {
  const remaining = deadlineRemainingMs(call);
  let ms = timeoutMs;
  if (remaining !== undefined) ms = Math.max(1, Math.min(ms ?? remaining, remaining));
  return ms === undefined ? [] : [['timeout', secondsParam(ms)]];
}

function optionalTime(name: string, ms: number | undefined): Params {
  return ms === undefined ? [] : [[name, secondsParam(ms)]];
}

function limit(n: number): Params {
  return n === 0 ? [] : [['limit', String(n)]];
}

function matches(match: readonly string[]): Params {
  return match.map((m) => ['match[]', m]);
}

function unary<Req, Res>(
  answer: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    answer(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err)),
    );
  };
}

// ---- narrowing the handlers' JSON-shaped data ----------------------------------------------------

function unexpected(what: string): MetricstorError {
  return new MetricstorError('internal', `unexpected ${what} from the API handler`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw unexpected('string list');
  return v;
}

function stringRecord(v: unknown): Record<string, string> {
  if (!isRecord(v) || !Object.values(v).every((x) => typeof x === 'string')) throw unexpected('label set');
  return v as Record<string, string>;
}

function num(v: unknown): number {
  if (typeof v !== 'number') throw unexpected('number');
  return v;
}

function nameCounts(v: unknown): NameCount[] {
  if (!Array.isArray(v)) throw unexpected('stats list');
  return v.map((e: unknown) => {
    if (!isRecord(e) || typeof e['name'] !== 'string') throw unexpected('stats entry');
    return { name: e['name'], value: num(e['value']) };
  });
}

function queryAnswer(a: HandlerAnswer): QueryResponse {
  if (!(a.data instanceof QueryData)) throw unexpected('query result');
  return queryResponse(a.data.result, a.warnings);
}

// ---- the service --------------------------------------------------------------------------------

export function metricstorQueryService(deps: ApiDeps): UntypedServiceImplementation {
  return {
    query: unary<QueryRequest, QueryResponse>(async (req, call) =>
      queryAnswer(
        await runHandler(
          instantQuery,
          [
            ['query', req.query],
            ...optionalTime('time', req.timeMs),
            ...timeoutParam(call, req.timeoutMs),
            ...optionalTime('lookback_delta', req.lookbackDeltaMs),
            ...limit(req.limit),
          ],
          deps,
          call,
        ),
      ),
    ),
    queryRange: unary<QueryRangeRequest, QueryResponse>(
      async (req, call) =>
        queryAnswer(
          await runHandler(
            rangeQuery,
            [
              ['query', req.query],
              ['start', secondsParam(req.startMs)],
              ['end', secondsParam(req.endMs)],
              ['step', secondsParam(req.stepMs)],
              ...timeoutParam(call, req.timeoutMs),
              ...optionalTime('lookback_delta', req.lookbackDeltaMs),
              ...limit(req.limit),
            ],
            deps,
            call,
          ),
        ),
    ),
    series: unary<SeriesRequest, SeriesResponse>(async (req, call) => {
      const a = await runHandler(
        series,
        [...matches(req.match), ...optionalTime('start', req.startMs), ...optionalTime('end', req.endMs), ...limit(req.limit)],
        deps,
        call,
      );
      if (!Array.isArray(a.data)) throw unexpected('series list');
      return { series: a.data.map((s: unknown) => ({ labels: labelsFromObject(stringRecord(s)) })), warnings: [...a.warnings] };
    }),
    labelNames: unary<LabelNamesRequest, LabelNamesResponse>(
      async (req, call) => {
        const a = await runHandler(
          labelNames,
          [...matches(req.match), ...optionalTime('start', req.startMs), ...optionalTime('end', req.endMs), ...limit(req.limit)],
          deps,
          call,
        );
        return { names: stringArray(a.data), warnings: [...a.warnings] };
      },
    ),
    labelValues: unary<LabelValuesRequest, LabelValuesResponse>(
      async (req, call) => {
        const a = await runHandler(
          labelValues,
          [...matches(req.match), ...optionalTime('start', req.startMs), ...optionalTime('end', req.endMs), ...limit(req.limit)],
          deps,
          call,
          { name: req.name },
        );
        return { values: stringArray(a.data), warnings: [...a.warnings] };
      },
    ),
    stats: unary<StatsRequest, StatsResponse>(async (req, call) => {
      const a = await runHandler(tsdbStatus, limit(req.limit), deps, call);
      if (!isRecord(a.data) || !isRecord(a.data['headStats'])) throw unexpected('stats');
      const head = a.data['headStats'];
      return {
        numSeries: num(head['numSeries']),
        numLabelPairs: num(head['numLabelPairs']),
        seriesCountByMetricName: nameCounts(a.data['seriesCountByMetricName']),
        labelValueCountByLabelName: nameCounts(a.data['labelValueCountByLabelName']),
        seriesCountByLabelValuePair: nameCounts(a.data['seriesCountByLabelValuePair']),
      };
    }),
    buildInfo: unary<BuildInfoRequest, BuildInfoResponse>(
      async (_req, call) => {
        const a = await runHandler(buildInfo, [], deps, call);
        const info = stringRecord(a.data);
        return {
          version: info['version'] ?? '',
          revision: info['revision'] ?? '',
          branch: info['branch'] ?? '',
          buildUser: info['buildUser'] ?? '',
          buildDate: info['buildDate'] ?? '',
          runtimeVersion: info['goVersion'] ?? '',
        };
      },
    ),
    health: unary<HealthRequest, HealthResponse>(async () => ({
      healthy: true,
      ready: await deps.storage.ready().catch(() => false),
    })),
  };
}

import type { Labels } from '../model/labels.js';

/** One series of a matrix result: points sorted by time. */
export interface MatrixSeries {
  readonly labels: Labels;
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

export interface VectorSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** A query's result, as the HTTP and gRPC APIs encode it. Times are milliseconds. */
export type QueryResult =
  | { readonly resultType: 'scalar'; readonly t: number; readonly v: number }
  | { readonly resultType: 'string'; readonly t: number; readonly value: string }
  | { readonly resultType: 'vector'; readonly samples: readonly VectorSample[] }
  | { readonly resultType: 'matrix'; readonly series: readonly MatrixSeries[] };

export interface QueryOptions {
  /** Overrides the engine's lookback delta for this query. */
  readonly lookbackDeltaMs?: number;
  /** Overrides the engine's timeout for this query. */
  readonly timeoutMs?: number;
  /** Aborts the query (client went away). */
  readonly signal?: AbortSignal;
}

export interface QueryOutcome {
  readonly result: QueryResult;
  readonly warnings: readonly string[];
}

/** What the API layers need from the PromQL engine. Errors are MetricstorError. */
export interface QueryEngine {
  instantQuery(query: string, timeMs: number, options?: QueryOptions): Promise<QueryOutcome>;
  rangeQuery(
    query: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    options?: QueryOptions,
  ): Promise<QueryOutcome>;
}

export interface EngineLimits {
  /** Default 5 minutes. */
  readonly lookbackDeltaMs: number;
  /** Default 2 minutes. */
  readonly timeoutMs: number;
  /** Most samples loaded at once by one query; default 50,000,000. */
  readonly maxSamples: number;
  /** Most points per series in a range query; default 11,000. */
  readonly maxPointsPerSeries: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  lookbackDeltaMs: 5 * 60 * 1000,
  timeoutMs: 2 * 60 * 1000,
  maxSamples: 50_000_000,
  maxPointsPerSeries: 11_000,
};

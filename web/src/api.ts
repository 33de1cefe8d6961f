/** A small client for the Prometheus-compatible HTTP API the server answers. */

export type SampleValue = [number, string];

export interface SeriesSample {
  readonly metric: Record<string, string>;
  readonly value?: SampleValue;
  readonly values?: SampleValue[];
}

export type QueryData =
  | { readonly resultType: 'vector'; readonly result: SeriesSample[] }
  | { readonly resultType: 'matrix'; readonly result: SeriesSample[] }
  | { readonly resultType: 'scalar'; readonly result: SampleValue }
  | { readonly resultType: 'string'; readonly result: SampleValue };

/** An error the API answered with (its errorType and message), or a transport failure. */
export class ApiError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

interface Envelope {
  status?: unknown;
  data?: unknown;
  errorType?: unknown;
  error?: unknown;
  warnings?: unknown;
}

export interface Answer<T> {
  readonly data: T;
  readonly warnings: string[];
}

async function call<T>(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<Answer<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('network', `cannot reach the server: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  let body: Envelope;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    throw new ApiError('http', `HTTP ${res.status}: ${text.slice(0, 300) || res.statusText}`);
  }
  if (body.status !== 'success') {
    const type = typeof body.errorType === 'string' ? body.errorType : 'http';
    const message = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    throw new ApiError(type, message);
  }
  const warnings = Array.isArray(body.warnings) ? body.warnings.filter((w): w is string => typeof w === 'string') : [];
  return { data: body.data as T, warnings };
}

export function instantQuery(expr: string, timeSec: number, signal?: AbortSignal): Promise<Answer<QueryData>> {
  return call('api/v1/query', new URLSearchParams({ query: expr, time: String(timeSec) }), signal);
}

export function rangeQuery(
  expr: string,
  startSec: number,
  endSec: number,
  stepSec: number,
  signal?: AbortSignal,
): Promise<Answer<QueryData>> {
  const params = new URLSearchParams({ query: expr, start: String(startSec), end: String(endSec), step: String(stepSec) });
  return call('api/v1/query_range', params, signal);
}

function matchParams(matchSelector: string | undefined): URLSearchParams {
  const params = new URLSearchParams();
  if (matchSelector !== undefined) params.append('match[]', matchSelector);
  return params;
}

export async function labelNames(matchSelector?: string): Promise<string[]> {
  return (await call<string[]>('api/v1/labels', matchParams(matchSelector))).data;
}

export async function labelValues(name: string, matchSelector?: string): Promise<string[]> {
  const params = matchParams(matchSelector);
  const query = params.toString();
  const res = await fetch(`api/v1/label/${encodeURIComponent(name)}/values${query ? `?${query}` : ''}`);
  const body = (await res.json()) as Envelope;
  if (body.status !== 'success' || !Array.isArray(body.data)) {
    throw new ApiError(typeof body.errorType === 'string' ? body.errorType : 'http', String(body.error ?? res.status));
  }
  return body.data.filter((v): v is string => typeof v === 'string');
}

/**
 * One timed PromQL request over HTTP: latency from sending the request to having read the whole
 * response body, with a deadline after which the request is abandoned and counted as timed out.
 */

export type QueryKind = 'instant' | 'range 30m' | 'range 24h';

export const QUERY_KINDS: readonly QueryKind[] = ['instant', 'range 30m', 'range 24h'];

/** status 0: no HTTP answer at all (the body is then the error). */
export type TimedResponse =
  | { readonly timedOut: false; readonly ms: number; readonly status: number; readonly body: string }
  | { readonly timedOut: true; readonly ms: number };

/** API path and form parameters of a query of the given kind ending at endMs. */
export function queryRequest(kind: QueryKind, query: string, endMs: number): { path: string; params: Record<string, string> } {
  const seconds = (ms: number): string => String(ms / 1000);
  switch (kind) {
    case 'instant':
      return { path: '/api/v1/query', params: { query, time: seconds(endMs) } };
    case 'range 30m':
      return { path: '/api/v1/query_range', params: { query, start: seconds(endMs - 30 * 60_000), end: seconds(endMs), step: '30' } };
    case 'range 24h':
      return { path: '/api/v1/query_range', params: { query, start: seconds(endMs - 24 * 3_600_000), end: seconds(endMs), step: '300' } };
  }
}

/** POSTs the form and reads the whole body; never throws. */
export async function timedQuery(baseUrl: string, path: string, params: Record<string, string>, timeoutMs: number): Promise<TimedResponse> {
  const body = new URLSearchParams(params).toString();
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { timedOut: false, ms: performance.now() - started, status: res.status, body: text };
  } catch (err) {
    const ms = performance.now() - started;
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return { timedOut: true, ms };
    return { timedOut: false, ms, status: 0, body: err instanceof Error ? err.message : String(err) };
  }
}

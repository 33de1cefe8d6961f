/**
 * Every error that crosses a module boundary is a MetricstorError carrying the Prometheus error
 * type. The API layer maps the type to an HTTP status (or gRPC code) in exactly one place.
 */
export type ErrorType =
  | 'bad_data' // the request can never succeed as sent (HTTP 400)
  | 'execution' // the query failed while evaluating (HTTP 422)
  | 'timeout' // a deadline passed (HTTP 503)
  | 'canceled' // the caller went away (HTTP 499 in Prometheus, 503 here)
  | 'unavailable' // a dependency (the KV) is unreachable; retryable (HTTP 503)
  | 'not_found' // HTTP 404
  | 'too_large' // a body or a declared length exceeds a limit (HTTP 413)
  | 'unsupported_media_type' // HTTP 415
  | 'overloaded' // a bounded queue is full; retry later (HTTP 429)
  | 'forbidden' // authenticated but not allowed (HTTP 403)
  | 'unauthorized' // no or wrong credentials (HTTP 401)
  | 'internal'; // a bug (HTTP 500)

export class MetricstorError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MetricstorError';
  }
}

export function badData(message: string): MetricstorError {
  return new MetricstorError('bad_data', message);
}

export function isMetricstorError(err: unknown): err is MetricstorError {
  return err instanceof MetricstorError;
}

/** The message of anything thrown, for logs and error envelopes. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

import { MetricstorError } from '../../errors.js';

/** An evaluation error (HTTP 422). */
export function executionError(message: string): MetricstorError {
  return new MetricstorError('execution', message);
}

export function tooManySamplesError(): MetricstorError {
  return executionError('query processing would load too many samples into memory in query execution');
}

export function duplicateLabelsetError(): MetricstorError {
  return executionError('vector cannot contain metrics with the same labelset');
}

export function timeoutError(): MetricstorError {
  return new MetricstorError('timeout', 'query timed out in expression evaluation');
}

export function canceledError(): MetricstorError {
  return new MetricstorError('canceled', 'query was canceled in expression evaluation');
}

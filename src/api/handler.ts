import type { ApiDeps } from './deps.js';
import type { RequestParams } from './params.js';
import type { ApiResult } from './respond.js';

export interface ApiRequest {
  readonly params: RequestParams;
  /** Decoded `:name` segments of the route path. */
  readonly pathParams: Readonly<Record<string, string>>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** Every API endpoint: read parameters, do the work, return data or throw a MetricstorError. */
export type ApiHandler = (req: ApiRequest, deps: ApiDeps) => Promise<ApiResult>;

/** The warning newer Prometheus versions add when `limit` cut a result. */
export const TRUNCATED_WARNING = 'results truncated due to limit';

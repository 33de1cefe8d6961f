/** The one table from MetricstorError types to gRPC status codes, and errors as grpc-js sends them. */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { ErrorType } from '../errors.js';
import { errorMessage, isMetricstorError } from '../errors.js';

export const GRPC_STATUS_BY_ERROR_TYPE: Readonly<Record<ErrorType, status>> = {
  bad_data: status.INVALID_ARGUMENT,
  // the query is valid but cannot run on this data (e.g. many-to-many matching); retrying won't help
  execution: status.FAILED_PRECONDITION,
  timeout: status.DEADLINE_EXCEEDED,
  canceled: status.CANCELLED,
  unavailable: status.UNAVAILABLE,
  not_found: status.NOT_FOUND,
  internal: status.INTERNAL,
  too_large: status.RESOURCE_EXHAUSTED,
  unsupported_media_type: status.INVALID_ARGUMENT,
  overloaded: status.RESOURCE_EXHAUSTED,
  forbidden: status.PERMISSION_DENIED,
  unauthorized: status.UNAUTHENTICATED,
};

/** The status for any thrown value; what is not a MetricstorError counts as internal. */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  const type: ErrorType = isMetricstorError(err) ? err.type : 'internal';
  const metadata = new Metadata();
  metadata.set('metricstor-error-type', type);
  return { code: GRPC_STATUS_BY_ERROR_TYPE[type], details: errorMessage(err), metadata };
}

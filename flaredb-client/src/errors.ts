import { status } from '@grpc/grpc-js';

/** Codes worth another attempt: the request did not run, or ran into a transient condition. */
const RETRYABLE_CODES: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.ABORTED]);

/** A failed FlareDB call, with the gRPC status code it ended with. */
export class FlareDbError extends Error {
  override readonly name = 'FlareDbError';
  /** Whether the same call may succeed when tried again (possibly on another endpoint). */
  readonly retryable: boolean;

  constructor(
    readonly code: status,
    message: string,
    options: { readonly cause?: unknown; readonly endpoint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = isRetryableCode(code);
    this.endpoint = options.endpoint;
  }

  /** The endpoint the last attempt went to, when one was tried. */
  readonly endpoint: string | undefined;

  /** The name of the status code, e.g. "UNAVAILABLE". */
  get codeName(): string {
    return status[this.code] ?? `CODE_${this.code}`;
  }
}

export function isRetryableCode(code: status): boolean {
  return RETRYABLE_CODES.has(code);
}

export function isFlareDbError(err: unknown): err is FlareDbError {
  return err instanceof FlareDbError;
}

/** The gRPC status code of an error from grpc-js, or UNKNOWN when it carries none. */
export function grpcCodeOf(err: unknown): status {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code: unknown = err.code;
    if (typeof code === 'number' && code >= 0 && code <= 16) return code;
  }
  return status.UNKNOWN;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

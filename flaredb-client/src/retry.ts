/** Capped exponential backoff with full jitter. */
export interface BackoffOptions {
  /** Upper bound of the first wait. */
  readonly initialMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
  /** Growth of the upper bound per attempt. */
  readonly multiplier: number;
  /**
   * Fraction of the bound that is random: the wait is drawn from [bound * (1 - jitter), bound].
   * 1 is "full jitter", 0 waits exactly the bound.
   */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 2000, multiplier: 2, jitter: 1 };

/** The upper bound of the wait before retry number `retry` (0 = the first retry). */
export function backoffBoundMs(options: BackoffOptions, retry: number): number {
  const bound = options.initialMs * Math.pow(options.multiplier, Math.max(0, retry));
  return Math.min(options.maxMs, bound);
}

/** The wait before retry number `retry`, with jitter drawn from `random` (uniform in [0, 1)). */
export function backoffDelayMs(options: BackoffOptions, retry: number, random: () => number = Math.random): number {
  const bound = backoffBoundMs(options, retry);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return bound * (1 - jitter) + bound * jitter * random();
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

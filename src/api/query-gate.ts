import { MetricstorError } from '../errors.js';

export interface QueryGateOptions {
  /** Queries evaluated at once. */
  readonly maxConcurrency: number;
  /** Queries allowed to wait for a slot; one more is refused at once. */
  readonly maxQueue: number;
  /** Longest a query may wait for a slot before it is refused. */
  readonly maxWaitMs: number;
}

interface Waiter {
  readonly start: () => void;
  readonly timer: NodeJS.Timeout;
}

/** Seconds a refused client is told to wait (Retry-After). */
export const QUERY_RETRY_AFTER_SECONDS = 1;

/**
 * Caps the queries evaluated at once, with a bounded line of waiting ones. A query that finds the
 * line full, waits longer than maxWaitMs, or whose client leaves while it waits, never runs; the
 * first two are refused as `unavailable` (503 with Retry-After), as Prometheus answers a full
 * query queue. Health probes and ingestion never pass through the gate.
 */
export class QueryGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly options: QueryGateOptions) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(query: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await query();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.running < this.options.maxConcurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(this.refused(`${this.options.maxQueue} waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const leave = (err: unknown): void => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = (): void => leave(signal?.reason ?? new MetricstorError('canceled', 'client closed the connection'));
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        timer: setTimeout(() => leave(this.refused(`waited ${this.options.maxWaitMs} ms`)), this.options.maxWaitMs),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.running--;
    else next.start(); // the slot passes straight to the next query
  }

  private refused(why: string): MetricstorError {
    return new MetricstorError(
      'unavailable',
      `too many concurrent queries (${this.options.maxConcurrency} running, ${why}); retry later`,
    );
  }
}

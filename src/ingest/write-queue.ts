import { MetricstorError } from '../errors.js';

export interface WriteQueueOptions {
  /** Writes running against storage at once. */
  readonly maxConcurrent: number;
  /** Writes allowed to wait for a slot; one more is refused as overloaded. */
  readonly maxWaiting: number;
  /** Longest a write may wait for a slot before it is refused as overloaded. */
  readonly maxWaitMs: number;
  /** What a refused sender is told to wait (Retry-After), in seconds. */
  readonly retryAfterSeconds: number;
}

/**
 * Prometheus 2.42 drops a batch answered 429 unless retry_on_http_429 is set, and runs up to
 * 200 shards (connections) at once; so the line is long enough for that many senders, and a
 * writer gives up well before the sender's 30 s remote_timeout. A running write holds its slot
 * until its group commit is durable, so the slots must outnumber the writes one commit gathers:
 * with fewer, the event loop sits idle during every fsync while the line waits undecoded.
 */
export const DEFAULT_WRITE_QUEUE: WriteQueueOptions = {
  maxConcurrent: 32,
  maxWaiting: 256,
  maxWaitMs: 10_000,
  retryAfterSeconds: 1,
};

interface Waiter {
  readonly start: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Bounds the writes in flight in front of storage.append. A write that finds every slot busy and
 * the waiting line full (or waits too long) fails at once with `overloaded`, which the handlers
 * answer with 429 and Retry-After, instead of piling up memory.
 */
export class WriteQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly options: WriteQueueOptions = DEFAULT_WRITE_QUEUE) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(write: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await write();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(this.overloaded());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(this.overloaded());
        }, this.options.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.running--;
    else next.start(); // the slot passes straight to the next writer
  }

  private overloaded(): MetricstorError {
    return new MetricstorError(
      'overloaded',
      `too many concurrent writes (${this.options.maxConcurrent} running, ${this.options.maxWaiting} waiting); retry later`,
    );
  }
}

interface Waiter {
  readonly grant: (release: () => void) => void;
  readonly fail: (err: unknown) => void;
}

/**
 * Caps how many operations run at once; the rest wait in arrival order. `acquire` resolves with a
 * release function that must be called exactly once.
 */
export class InFlightLimiter {
  private active = 0;
  private readonly waiting = new Set<Waiter>();

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`in-flight cap must be a positive integer, got ${max}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** A slot's release function when one is free now, else undefined (nothing is queued). */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Waits for a free slot; rejects with the signal's reason if it aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiting.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.waiting.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Rejects every waiting acquire with `err`; slots already granted are unaffected. */
  rejectWaiting(err: unknown): void {
    const waiters = [...this.waiting];
    this.waiting.clear();
    for (const waiter of waiters) waiter.fail(err);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.values().next();
      if (next.done === true) {
        this.active--;
        return;
      }
      // The slot passes straight to the next waiter, so the count stays the same.
      this.waiting.delete(next.value);
      next.value.grant(this.releaser());
    };
  }
}

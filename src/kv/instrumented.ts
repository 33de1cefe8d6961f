import type { KvBatchLimits, KvOp, KvRange, KvScanPage, KvStore } from './kv.js';

export type KvOperation = 'get' | 'getMany' | 'batch' | 'scan' | 'scanMany' | 'compareAndSwap';

/** Told about every KV call: which operation, how long it took, whether it failed. */
export interface KvCallObserver {
  kvCall(operation: KvOperation, durationSeconds: number, failed: boolean): void;
}

/** A KvStore that reports the latency and failures of each call to an observer; wraps any backend. */
export class InstrumentedKv implements KvStore {
  readonly batchLimits: KvBatchLimits | undefined;

  constructor(
    private readonly inner: KvStore,
    private readonly observer: KvCallObserver,
  ) {
    this.batchLimits = inner.batchLimits;
  }

  get(key: Uint8Array): Promise<Uint8Array | null> {
    return this.timed('get', () => this.inner.get(key));
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
    return this.timed('getMany', () => this.inner.getMany(keys));
  }

  batch(ops: readonly KvOp[]): Promise<void> {
    return this.timed('batch', () => this.inner.batch(ops));
  }

  scan(range: KvRange): Promise<KvScanPage> {
    return this.timed('scan', () => this.inner.scan(range));
  }

  scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]> {
    return this.timed('scanMany', () => this.inner.scanMany(ranges));
  }

  compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean> {
    return this.timed('compareAndSwap', () => this.inner.compareAndSwap(key, expected, value));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  writeGeneration(): string | undefined {
    return this.inner.writeGeneration?.();
  }

  private async timed<T>(operation: KvOperation, call: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let failed = true;
    try {
      const result = await call();
      failed = false;
      return result;
    } finally {
      this.observer.kvCall(operation, Number(process.hrtime.bigint() - start) / 1e9, failed);
    }
  }
}

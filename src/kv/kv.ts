/**
 * The one interface every storage backend implements: an ordered store of byte keys.
 *
 * Contract (checked by test/kv/kv.contract.ts against every backend):
 * - Keys are compared bytewise (unsigned), shorter-prefix first. Keys are non-empty.
 * - `batch` applies all of its operations atomically: after it resolves all are visible, after it
 *   rejects none are. Within one batch, a later operation on the same key wins.
 * - A resolved `batch` is durable: it survives a crash of the process.
 * - `scan` returns entries with start <= key < end in ascending key order, at most `limit` of them,
 *   and `next` (the key to resume from) when more may remain. An empty `end` means unbounded.
 * - `scanMany` answers each range as `scan` would: one page per range, in the ranges' order.
 * - `compareAndSwap` sets `key` to `value` (or deletes it when `value` is null) only if its current
 *   value equals `expected` (null = absent), atomically with respect to every other call.
 * - Errors from an unreachable backend are MetricstorError of type `unavailable`.
 * - Returned byte arrays belong to the caller; the store never mutates them afterwards.
 * - `writeGeneration`, where a backend offers it, is a token that differs from every earlier one
 *   once any write (of any process) has become visible, and reads that start after the call see at
 *   least the state it names: equal tokens mean nothing was written in between. Undefined when the
 *   backend cannot tell (other writers it does not see), and then readers must read.
 */
export interface KvStore {
  /**
   * The largest batch this backend writes well, when smaller than what callers would send
   * otherwise; a caller with more operations cuts them into batches of at most this size.
   */
  readonly batchLimits?: KvBatchLimits;
  get(key: Uint8Array): Promise<Uint8Array | null>;
  /** Values in the order of the keys; null where a key is absent. */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]>;
  batch(ops: readonly KvOp[]): Promise<void>;
  scan(range: KvRange): Promise<KvScanPage>;
  scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]>;
  compareAndSwap(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): Promise<boolean>;
  close(): Promise<void>;
  writeGeneration?(): string | undefined;
}

export interface KvBatchLimits {
  readonly maxBatchBytes: number;
  readonly maxBatchOps: number;
}

export type KvOp =
  | {
      readonly type: 'put';
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      /**
       * A hint: the value is bulk data (a chunk's bytes) that is written once or a few times,
       * read seldom and deleted before long, as opposed to index data. A backend may keep such
       * values apart from its ordered index; reads return them all the same.
       */
      readonly bulk?: boolean;
    }
  | { readonly type: 'del'; readonly key: Uint8Array };

export interface KvRange {
  readonly start: Uint8Array;
  /** Exclusive; an empty array means no upper bound. */
  readonly end: Uint8Array;
  /** At most this many entries (default 1000). */
  readonly limit?: number;
}

export interface KvEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface KvScanPage {
  readonly entries: KvEntry[];
  /** Where to continue (inclusive) when more entries may remain in the range. */
  readonly next?: Uint8Array;
}

import { MetricstorError } from '../errors.js';
import type { KvOp, KvRange } from './kv.js';

/** Scan page size when the caller gives none (see KvRange.limit). */
export const DEFAULT_SCAN_LIMIT = 1000;

/** Argument checks shared by every backend; a violation is a caller bug, hence `internal`. */
export function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length === 0) {
    throw new MetricstorError('internal', 'KV keys must be non-empty byte arrays');
  }
}

export function checkOps(ops: readonly KvOp[]): void {
  for (const op of ops) {
    checkKey(op.key);
    if (op.type === 'put' && !(op.value instanceof Uint8Array)) {
      throw new MetricstorError('internal', 'KV put values must be byte arrays');
    }
  }
}

export function checkRange(range: KvRange): void {
  if (!(range.start instanceof Uint8Array) || !(range.end instanceof Uint8Array)) {
    throw new MetricstorError('internal', 'KV scan bounds must be byte arrays');
  }
  const limit = range.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new MetricstorError('internal', `KV scan limit must be a positive integer, got ${limit}`);
  }
}

import { MetricstorError } from '../errors.js';
import { decodeUint32BE, writeUint32BE } from './bytes.js';
import type { ValueRef } from './value-log.js';

/**
 * What the embedded KV keeps as an LMDB value: a tag byte, then either the value itself or a
 * reference into the value log (docs/format/embedded-kv.md).
 */
export const TAG_INLINE = 0x00;
export const TAG_LOGGED = 0x01;
export const LOGGED_VALUE_BYTES = 13;

export function writeLoggedValue(into: Uint8Array, at: number, ref: ValueRef): void {
  into[at] = TAG_LOGGED;
  writeUint32BE(into, at + 1, ref.segment);
  writeUint32BE(into, at + 5, ref.offset);
  writeUint32BE(into, at + 9, ref.length);
}

/** The reference a stored value holds, or null when the value is inline. */
export function loggedRefOf(stored: Uint8Array): ValueRef | null {
  const tag = stored[0];
  if (tag === TAG_INLINE) return null;
  if (tag !== TAG_LOGGED || stored.length !== LOGGED_VALUE_BYTES) {
    throw new MetricstorError('internal', `embedded KV value with unknown tag ${tag} and ${stored.length} bytes`);
  }
  return { segment: decodeUint32BE(stored, 1), offset: decodeUint32BE(stored, 5), length: decodeUint32BE(stored, 9) };
}

export function sameRef(a: ValueRef, b: ValueRef): boolean {
  return a.segment === b.segment && a.offset === b.offset && a.length === b.length;
}

import { concat, utf8 } from '../../kv/bytes.js';
import { NS_LEASE } from '../keys.js';

const LEASE_NAMESPACE = Uint8Array.of(NS_LEASE);

/** `L` name: the key of one lease (docs/format/kv-keys.md). */
export function leaseKey(name: string): Uint8Array {
  return concat(LEASE_NAMESPACE, utf8(name));
}

/** The start of every lease key whose name begins with `namePrefix`. */
export function leasePrefix(namePrefix: string): Uint8Array {
  return concat(LEASE_NAMESPACE, utf8(namePrefix));
}

export function leaseNameFromKey(key: Uint8Array): string {
  return new TextDecoder().decode(key.subarray(LEASE_NAMESPACE.length));
}

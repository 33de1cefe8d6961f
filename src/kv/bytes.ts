/**
 * Byte helpers for KV keys: bytewise ordering, concatenation, prefix ranges and big-endian
 * integers. Big-endian so that numeric order and bytewise key order agree.
 */

/** Unsigned bytewise comparison; a proper prefix sorts before any longer key that starts with it. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let sizeBytes = 0;
  for (const p of parts) sizeBytes += p.length;
  const out = new Uint8Array(sizeBytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A fresh copy that owns its own buffer (not a view into a larger one). */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/**
 * The smallest key greater than every key that starts with `prefix`, for use as an exclusive scan
 * end. Returns an empty array (an unbounded end) when no such key exists, i.e. when the prefix is
 * empty or all 0xff.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  let last = prefix.length - 1;
  while (last >= 0 && prefix[last] === 0xff) last--;
  if (last < 0) return new Uint8Array(0);
  const end = prefix.slice(0, last + 1);
  end[last]! += 1;
  return end;
}

/** The smallest key greater than `key` itself: `key` followed by 0x00. */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 0);
  return out;
}

/** The ASCII/UTF-8 bytes of a string, e.g. a one-letter namespace. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

const MAX_UINT32 = 0xffff_ffff;
const MAX_UINT64 = (1n << 64n) - 1n;

function checkUint32(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_UINT32) {
    throw new RangeError(`${what} ${n} is not an unsigned 32-bit integer`);
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkRead(b: Uint8Array, offset: number, sizeBytes: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + sizeBytes > b.length) {
    throw new RangeError(`cannot read ${sizeBytes} bytes at offset ${offset} of ${b.length}`);
  }
}

export function encodeUint32BE(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeUint32BE(out, 0, n);
  return out;
}

export function writeUint32BE(into: Uint8Array, offset: number, n: number): void {
  checkUint32(n, 'value');
  checkRead(into, offset, 4);
  view(into).setUint32(offset, n, false);
}

export function decodeUint32BE(b: Uint8Array, offset = 0): number {
  checkRead(b, offset, 4);
  return view(b).getUint32(offset, false);
}

export function encodeUint64BE(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  writeUint64BE(out, 0, n);
  return out;
}

export function writeUint64BE(into: Uint8Array, offset: number, n: bigint): void {
  if (n < 0n || n > MAX_UINT64) throw new RangeError(`value ${n} is not an unsigned 64-bit integer`);
  checkRead(into, offset, 8);
  view(into).setBigUint64(offset, n, false);
}

export function decodeUint64BE(b: Uint8Array, offset = 0): bigint {
  checkRead(b, offset, 8);
  return view(b).getBigUint64(offset, false);
}

/** A 64-bit unsigned integer as two 32-bit words, for hot paths that avoid bigint. */
export interface Uint64Words {
  readonly hi: number;
  readonly lo: number;
}

export function encodeUint64WordsBE(hi: number, lo: number): Uint8Array {
  const out = new Uint8Array(8);
  writeUint64WordsBE(out, 0, hi, lo);
  return out;
}

export function writeUint64WordsBE(into: Uint8Array, offset: number, hi: number, lo: number): void {
  checkUint32(hi, 'high word');
  checkUint32(lo, 'low word');
  checkRead(into, offset, 8);
  const v = view(into);
  v.setUint32(offset, hi, false);
  v.setUint32(offset + 4, lo, false);
}

export function decodeUint64WordsBE(b: Uint8Array, offset = 0): Uint64Words {
  checkRead(b, offset, 8);
  const v = view(b);
  return { hi: v.getUint32(offset, false), lo: v.getUint32(offset + 4, false) };
}

/** Bytes as lowercase hex, for messages and debugging. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

import { MetricstorError } from '../errors.js';
import type { Label, Labels } from '../model/labels.js';

/**
 * The canonical label encoding stored under `S sid` and the 64-bit series hash. Both are part of
 * the KV format (docs/format/kv-keys.md): every node must derive the same sid from the same labels.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeUvarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

export function encodeLabels(labels: Labels): Uint8Array {
  const parts: Uint8Array[] = [];
  let sizeBytes = uvarintSize(labels.length);
  for (const l of labels) {
    const n = encoder.encode(l.name);
    const v = encoder.encode(l.value);
    parts.push(n, v);
    sizeBytes += uvarintSize(n.length) + n.length + uvarintSize(v.length) + v.length;
  }
  const out = new Uint8Array(sizeBytes);
  let at = writeUvarint(out, 0, labels.length);
  for (const p of parts) {
    at = writeUvarint(out, at, p.length);
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decodeLabels(bytes: Uint8Array): Label[] {
  let at = 0;
  const readUvarint = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new MetricstorError('internal', 'truncated label encoding');
      const b = bytes[at++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
  };
  const readString = (): string => {
    const len = readUvarint();
    if (at + len > bytes.length) throw new MetricstorError('internal', 'truncated label encoding');
    const s = decoder.decode(bytes.subarray(at, at + len));
    at += len;
    return s;
  };
  const count = readUvarint();
  const out: Label[] = [];
  for (let i = 0; i < count; i++) {
    const name = readString();
    const value = readString();
    out.push({ name, value });
  }
  if (at !== bytes.length) throw new MetricstorError('internal', 'trailing bytes after label encoding');
  return out;
}

/** A 64-bit hash as two unsigned 32-bit words. */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

export type LabelsHasher = (labels: Labels) => Hash64;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Two 32-bit lanes fed with every UTF-16 code unit of each name and value, each followed by a
 * separator unit (0xffff after a name, 0xfffe after a value); lane one is FNV-1a, lane two a
 * multiply-xorshift. The final mix makes every output bit depend on both lanes. It walks the
 * strings in place, so hashing allocates nothing.
 */
export function hashLabels(labels: Labels): Hash64 {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const name = l.name;
    for (let j = 0; j < name.length; j++) {
      const c = name.charCodeAt(j);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ 0xffff, 0x01000193);
    b = Math.imul(b ^ 0xffff, 0x5bd1e995);
    b ^= b >>> 15;
    const value = l.value;
    for (let j = 0; j < value.length; j++) {
      const c = value.charCodeAt(j);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ 0xfffe, 0x01000193);
    b = Math.imul(b ^ 0xfffe, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const hi = fmix32(a ^ Math.imul(b, 0x27d4eb2d) ^ labels.length);
  const lo = fmix32(b ^ hi);
  return { hi, lo };
}

export function hashToSid(h: Hash64): bigint {
  return (BigInt(h.hi) << 32n) | BigInt(h.lo);
}

/** The next id to probe after a collision on `sid` (wrapping at 2^64). */
export function nextSid(sid: bigint): bigint {
  return (sid + 1n) & 0xffff_ffff_ffff_ffffn;
}

/** True when two label sets are identical (both sorted by name). */
export function sameLabels(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.value !== y.value) return false;
  }
  return true;
}

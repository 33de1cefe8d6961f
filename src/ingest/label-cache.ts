import { ByteArena } from './byte-arena.js';
import type { ValidLabels } from './types.js';

interface Entry {
  /** Where its generation's arena holds a copy of the encoded label bytes this entry stands for. */
  readonly keyAt: number;
  readonly keyLength: number;
  readonly labels: ValidLabels;
  /** The next entry whose bytes hash alike. */
  readonly next: Entry | undefined;
}

/**
 * Remembers validated label sets by the exact bytes a sender encoded them with, so a series sent
 * again (every scrape) skips label decoding and validation. Looked up by a hash of those bytes in
 * place, then compared byte for byte: no string is made per lookup. Bounded: two generations of
 * at most maxEntries each; when the young one fills up, the old one is dropped, so entries in use
 * survive. One cache belongs to one set of limits (the handler that owns it).
 *
 * Byte encodings that validate to the same label set (labels sent in another order) share one
 * ValidLabels object while cached, so validation can merge repeats of a series by identity.
 */
export class LabelCache {
  private young = new Map<number, Entry>();
  private old = new Map<number, Entry>();
  private youngKeys = new ByteArena();
  private oldKeys = new ByteArena(0);
  private youngSize = 0;
  private oldSize = 0;
  /** The ValidLabels of each canonical key among the entries of the same generation. */
  private youngByKey = new Map<string, ValidLabels>();
  private oldByKey = new Map<string, ValidLabels>();
  /** How many times the young generation has replaced the old one. */
  private rotationCount = 0;

  constructor(readonly maxEntries = 100_000) {}

  /** The labels cached for bytes[start, end), if any. */
  get(bytes: Uint8Array, start: number, end: number): ValidLabels | undefined {
    return this.getHashed(hashBytes(bytes, start, end), bytes, start, end);
  }

  /** As get, with hashBytes(bytes, start, end) already computed (by a decode worker). */
  getHashed(hash: number, bytes: Uint8Array, start: number, end: number): ValidLabels | undefined {
    const hit = find(this.young.get(hash), this.youngKeys, bytes, start, end);
    if (hit !== undefined) return hit.labels;
    const aged = find(this.old.get(hash), this.oldKeys, bytes, start, end);
    if (aged === undefined) return undefined;
    this.insert(hash, bytes, start, end, aged.labels);
    return aged.labels;
  }

  /**
   * Caches labels for the given encoded bytes (copied; the caller may reuse its buffer). Returns
   * the object now cached for them: `labels`, or the one already cached for an equal label set.
   */
  set(key: Uint8Array, labels: ValidLabels): ValidLabels {
    const hash = hashBytes(key, 0, key.length);
    const known = find(this.young.get(hash), this.youngKeys, key, 0, key.length);
    if (known !== undefined) return known.labels;
    const canonical = this.youngByKey.get(labels.key) ?? this.oldByKey.get(labels.key) ?? labels;
    this.insert(hash, key, 0, key.length, canonical);
    return canonical;
  }

  /** Changes whenever entries are dropped (a generation is replaced). */
  get rotations(): number {
    return this.rotationCount;
  }

  get size(): number {
    return this.youngSize + this.oldSize;
  }

  /** Enters a copy of bytes[start, end) (the caller may reuse its buffer) into the young generation. */
  private insert(hash: number, bytes: Uint8Array, start: number, end: number, labels: ValidLabels): void {
    if (this.youngSize >= this.maxEntries) {
      this.old = this.young;
      this.oldSize = this.youngSize;
      this.oldKeys = this.youngKeys;
      this.young = new Map();
      this.youngSize = 0;
      this.youngKeys = new ByteArena();
      this.oldByKey = this.youngByKey;
      this.youngByKey = new Map();
      this.rotationCount++;
    }
    this.youngByKey.set(labels.key, labels);
    const keyAt = this.youngKeys.add(bytes, start, end);
    this.young.set(hash, { keyAt, keyLength: end - start, labels, next: this.young.get(hash) });
    this.youngSize++;
  }
}

function find(entry: Entry | undefined, keys: ByteArena, bytes: Uint8Array, start: number, end: number): Entry | undefined {
  for (let e = entry; e !== undefined; e = e.next) if (keys.equals(e.keyAt, e.keyLength, bytes, start, end)) return e;
  return undefined;
}

/** MurmurHash3 (x86, 32-bit) of bytes[start, end), little-endian words. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= mixWord(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < end) {
    let k = 0;
    for (let shift = 0; i < end; i++, shift += 8) k |= bytes[i]! << shift;
    h ^= mixWord(k);
  }
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function mixWord(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

import type { ValidLabels } from './types.js';

/**
 * Remembers validated label sets by the exact bytes a sender encoded them with, so a series sent
 * again (every scrape) skips label decoding and validation. Bounded: two generations of at most
 * maxEntries each; when the young one fills up, the old one is dropped, so entries in use survive.
 * One cache belongs to one set of limits (the handler that owns it).
 */
export class LabelCache {
  private young = new Map<string, ValidLabels>();
  private old = new Map<string, ValidLabels>();

  constructor(readonly maxEntries = 100_000) {}

  get(rawKey: string): ValidLabels | undefined {
    const hit = this.young.get(rawKey);
    if (hit !== undefined) return hit;
    const aged = this.old.get(rawKey);
    if (aged !== undefined) this.set(rawKey, aged);
    return aged;
  }

  set(rawKey: string, labels: ValidLabels): void {
    if (this.young.size >= this.maxEntries) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(rawKey, labels);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

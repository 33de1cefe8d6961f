import { LRUCache } from 'lru-cache';
import type { Matcher } from '../model/matchers.js';
import type { SelectedSeries } from './series-index.js';

/** Series references the cache holds at most, over all its selections. */
const MAX_SERIES_HELD = 100_000;

interface Selection {
  readonly generation: string;
  readonly series: readonly SelectedSeries[];
}

/**
 * The sorted series of recent index selections by matchers and days, each valid while the KV's
 * write generation (KvStore.writeGeneration) is the one it was read at: a selection depends only
 * on the KV's postings and series keys, and every change to them is a write.
 */
export class SelectionCache {
  private readonly lru = new LRUCache<string, Selection>({
    maxSize: MAX_SERIES_HELD,
    sizeCalculation: (s) => s.series.length + 1,
  });

  static keyOf(matchers: readonly Matcher[], fromDay: number, toDay: number): string {
    let key = `${fromDay}:${toDay}`;
    for (const m of matchers) key += `\u0000${m.type}\u0000${m.name}\u0000${m.value}`;
    return key;
  }

  /** A copy of the selection read at `generation`, if there is one. */
  get(key: string, generation: string): SelectedSeries[] | undefined {
    const s = this.lru.get(key);
    return s === undefined || s.generation !== generation ? undefined : s.series.slice();
  }

  set(key: string, generation: string, series: readonly SelectedSeries[]): void {
    if (series.length < MAX_SERIES_HELD / 4) this.lru.set(key, { generation, series: series.slice() });
  }
}

import type { Labels } from '../../model/labels.js';
import { compileMatcher, matchesAll } from '../../model/matchers.js';
import type { Queryable, SelectParams, SeriesData } from '../../storage/types.js';

interface StoredSeries {
  labels: Labels;
  timestamps: Float64Array;
  /** Values kept bit-exact (staleness markers included). */
  values: Float64Array;
}

function seriesKey(labels: Labels): string {
  return labels.map((l) => `${l.name}\u0000${l.value}`).join('\u0001');
}

/**
 * A small in-memory Queryable for engine tests and the conformance runner: series by label
 * set, samples sorted by time, one sample per timestamp (a later write replaces an earlier one).
 * It also counts select calls, so tests can prove how often the engine reads storage.
 */
export class MemoryQueryable implements Queryable {
  private readonly series = new Map<string, StoredSeries>();
  selectCalls: SelectParams[] = [];

  /** Adds samples to a series (labels must be sorted); values keep their exact bits. */
  add(labels: Labels, timestamps: readonly number[], values: Float64Array): void {
    const key = seriesKey(labels);
    const byTime = new Map<number, Float64Array>();
    const existing = this.series.get(key);
    existing?.timestamps.forEach((t, i) => byTime.set(t, existing.values.subarray(i, i + 1)));
    timestamps.forEach((t, i) => byTime.set(t, values.subarray(i, i + 1)));
    const times = [...byTime.keys()].sort((a, b) => a - b);
    const out = new Float64Array(times.length);
    // TypedArray.set between arrays of one type copies bytes, so NaN payloads survive.
    times.forEach((t, i) => out.set(byTime.get(t)!, i));
    this.series.set(key, { labels, timestamps: Float64Array.from(times), values: out });
  }

  /** Replaces a series completely. */
  set(labels: Labels, timestamps: readonly number[], values: Float64Array): void {
    this.series.delete(seriesKey(labels));
    this.add(labels, timestamps, values);
  }

  clear(): void {
    this.series.clear();
    this.selectCalls = [];
  }

  async select(params: SelectParams): Promise<SeriesData[]> {
    this.selectCalls.push(params);
    const matchers = params.matchers.map(compileMatcher);
    const out: SeriesData[] = [];
    for (const s of this.series.values()) {
      if (!matchesAll(matchers, s.labels)) continue;
      const lo = lowerBound(s.timestamps, params.startMs);
      const hi = lowerBound(s.timestamps, params.endMs + 1);
      if (hi === lo) continue;
      out.push({
        labels: s.labels,
        timestamps: s.timestamps.slice(lo, hi),
        values: s.values.slice(lo, hi),
      });
    }
    return out;
  }
}

/** The first index whose timestamp is >= ms. */
function lowerBound(timestamps: Float64Array, ms: number): number {
  let lo = 0;
  let hi = timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (timestamps[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

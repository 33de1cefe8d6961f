import { HI_WORD, LO_WORD, bufferWordsOf } from '../../model/float-words.js';
import { STALE_NAN_HI, STALE_NAN_LO } from '../../model/value.js';
import type { SeriesData } from '../../storage/types.js';
import type { SampleSeries, StepGrid } from './values.js';

/**
 * Whether value i is a staleness marker. A marker is a NaN, so other values are told apart
 * without looking at their bits; the bits are read through one word view per buffer (the series
 * of a select share one), not a view per series.
 */
function staleAt(values: Float64Array, i: number): boolean {
  const v = values[i]!;
  if (v === v) return false;
  const words = bufferWordsOf(values);
  const at = (values.byteOffset >>> 2) + 2 * i;
  return words[at + HI_WORD] === STALE_NAN_HI && words[at + LO_WORD] === STALE_NAN_LO;
}

/** The number of staleness markers among the values. */
function countStale(values: Float64Array): number {
  let stale = 0;
  for (let i = 0; i < values.length; i++) if (staleAt(values, i)) stale++;
  return stale;
}

/**
 * The time a selector reads at for one step: the step time minus the offset, or with `@` the
 * pinned time minus the offset. As in Prometheus (which turns `@` into an offset relative to
 * the first step), a pinned reference still moves along with the steps after the first; that
 * only shows where a pinned range feeds a time-dependent function (predict_linear) that is
 * evaluated at every step, since everything else pinned is evaluated once.
 */
export function referenceTimeMs(grid: StepGrid, step: number, atMs: number | null, offsetMs: number): number {
  const stepMs = grid.startMs + step * grid.intervalMs;
  return (atMs === null ? stepMs : atMs + (stepMs - grid.startMs)) - offsetMs;
}

/**
 * The one home of lookback and staleness. For each step of the grid, at the reference time
 * (referenceTimeMs): the series' value there is its newest sample at or
 * before the reference time, if that sample is no older than lookbackMs (both ends inclusive, as
 * in Prometheus 2.x) and is not a staleness marker. Writes, per step, the index of that sample
 * or -1 into `out` (grid.steps long), and returns whether the series has a value at any step.
 */
export function instantSampleIndexes(
  series: SeriesData,
  grid: StepGrid,
  atMs: number | null,
  offsetMs: number,
  lookbackMs: number,
  out: Int32Array,
): boolean {
  const ts = series.timestamps;
  const values = series.values;
  out.fill(-1);
  let found = false;
  let j = -1; // index of the newest sample <= reference time
  for (let step = 0; step < grid.steps; step++) {
    const refMs = referenceTimeMs(grid, step, atMs, offsetMs);
    while (j + 1 < ts.length && ts[j + 1]! <= refMs) j++;
    if (j < 0 || ts[j]! < refMs - lookbackMs) continue;
    if (staleAt(values, j)) continue;
    out[step] = j;
    found = true;
  }
  return found;
}

/** The samples of a series usable in range vectors: staleness markers left out. */
export function withoutStaleMarkers(series: SeriesData): SampleSeries {
  const stale = countStale(series.values);
  if (stale === 0) return series;
  const n = series.values.length - stale;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < series.values.length; i++) {
    if (staleAt(series.values, i)) continue;
    timestamps[k] = series.timestamps[i]!;
    values[k] = series.values[i]!;
    k++;
  }
  return { labels: series.labels, timestamps, values };
}

/** Fills `into` with the ascending indexes i where values[i] < values[i - 1] (counter resets). */
export function findResets(values: Float64Array, into: number[]): void {
  into.length = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) into.push(i);
}

/**
 * withoutStaleMarkers, and with `resets` also the counter resets of the result, in the same pass
 * over the values: `resets` gets the ascending indexes i where values[i] < values[i - 1].
 */
export function rangeSamples(series: SeriesData, resets: number[] | null): SampleSeries {
  if (resets === null) return withoutStaleMarkers(series);
  resets.length = 0;
  const values = series.values;
  let prev = values[0]!;
  let stale = values.length > 0 && staleAt(values, 0);
  for (let i = 1; i < values.length && !stale; i++) {
    const v = values[i]!;
    if (v < prev) resets.push(i);
    else if (v !== v && staleAt(values, i)) stale = true;
    prev = v;
  }
  if (!stale) return series;
  const kept = withoutStaleMarkers(series);
  findResets(kept.values, resets);
  return kept;
}

/**
 * Slides a range window over one series across the steps of a grid: the window of a step holds
 * the samples with refMs - rangeMs <= t <= refMs (closed at both ends, as in Prometheus 2.x),
 * where refMs is the step's reference time (referenceTimeMs). Steps must be visited in order.
 */
export class WindowSlider {
  /** The window of the last step moved to: samples lo (inclusive) to hi. */
  lo = 0;
  hi = 0;
  refMs = 0;
  private ts: Float64Array = new Float64Array(0);

  constructor(
    private readonly grid: StepGrid,
    private readonly atMs: number | null,
    private readonly offsetMs: number,
    private readonly rangeMs: number,
  ) {}

  /** Starts over on another series' timestamps. */
  reset(timestamps: Float64Array): void {
    this.ts = timestamps;
    this.lo = 0;
    this.hi = 0;
    this.refMs = -Infinity;
  }

  /** Moves the window to a later step; true when it holds any sample. */
  moveTo(step: number): boolean {
    const ts = this.ts;
    const refMs = referenceTimeMs(this.grid, step, this.atMs, this.offsetMs);
    const minMs = refMs - this.rangeMs;
    let hi = this.hi;
    let lo = this.lo;
    // Where the new window starts at or after the previous one's end (step >= range), every
    // earlier sample but the previous window's last is before it: skip them unread.
    if (this.refMs <= minMs && hi - 1 > lo) lo = hi - 1;
    while (hi < ts.length && ts[hi]! <= refMs) hi++;
    while (lo < hi && ts[lo]! < minMs) lo++;
    this.hi = hi;
    this.lo = lo;
    this.refMs = refMs;
    return hi > lo;
  }
}

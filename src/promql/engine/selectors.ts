import { STALE_NAN_HI, STALE_NAN_LO } from '../../model/value.js';
import type { SeriesData } from '../../storage/types.js';
import type { SampleSeries, StepGrid } from './values.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** A 32-bit view over float64 values, to test staleness markers without allocating per sample. */
function wordsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

function staleAt(words: Uint32Array, i: number): boolean {
  return words[2 * i + HI] === STALE_NAN_HI && words[2 * i + LO] === STALE_NAN_LO;
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
 * in Prometheus 2.x) and is not a staleness marker. Returns, per step, the index of that sample
 * or -1, or null when the series has no value at any step.
 */
export function instantSampleIndexes(
  series: SeriesData,
  grid: StepGrid,
  atMs: number | null,
  offsetMs: number,
  lookbackMs: number,
): Int32Array | null {
  const ts = series.timestamps;
  const words = wordsOf(series.values);
  const out = new Int32Array(grid.steps).fill(-1);
  let found = false;
  let j = -1; // index of the newest sample <= reference time
  for (let step = 0; step < grid.steps; step++) {
    const refMs = referenceTimeMs(grid, step, atMs, offsetMs);
    while (j + 1 < ts.length && ts[j + 1]! <= refMs) j++;
    if (j < 0 || ts[j]! < refMs - lookbackMs) continue;
    if (staleAt(words, j)) continue;
    out[step] = j;
    found = true;
  }
  return found ? out : null;
}

/** The samples of a series usable in range vectors: staleness markers left out. */
export function withoutStaleMarkers(series: SeriesData): SampleSeries {
  const words = wordsOf(series.values);
  let stale = 0;
  for (let i = 0; i < series.values.length; i++) if (staleAt(words, i)) stale++;
  if (stale === 0) return series;
  const n = series.values.length - stale;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < series.values.length; i++) {
    if (staleAt(words, i)) continue;
    timestamps[k] = series.timestamps[i]!;
    values[k] = series.values[i]!;
    k++;
  }
  return { labels: series.labels, timestamps, values };
}

/**
 * Slides a range window over one series across every step: the window of a step holds the
 * samples with refMs - rangeMs <= t <= refMs (closed at both ends, as in Prometheus 2.x), where
 * refMs is the step's reference time (referenceTimeMs). Calls visit(step, lo, hi, refMs) for every
 * step whose window [lo, hi) is not empty.
 */
export function slideWindows(
  series: SampleSeries,
  grid: StepGrid,
  atMs: number | null,
  offsetMs: number,
  rangeMs: number,
  visit: (step: number, lo: number, hi: number, refMs: number) => void,
): void {
  const ts = series.timestamps;
  let lo = 0;
  let hi = 0;
  for (let step = 0; step < grid.steps; step++) {
    const refMs = referenceTimeMs(grid, step, atMs, offsetMs);
    const minMs = refMs - rangeMs;
    while (hi < ts.length && ts[hi]! <= refMs) hi++;
    while (lo < hi && ts[lo]! < minMs) lo++;
    if (hi > lo) visit(step, lo, hi, refMs);
  }
}

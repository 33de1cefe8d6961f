import { executionError } from '../errors.js';
import { KahanSum } from '../numeric.js';
import type { RangeFunction, RangeWindow } from './types.js';

/** The position of the first reset index >= i in w.resets. */
function firstResetFrom(w: RangeWindow, i: number): number {
  const r = w.resets;
  let lo = 0;
  let hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many samples of the window are below their predecessor inside the window. */
function resetsInWindow(w: RangeWindow): number {
  if (w.resets.length === 0) return 0;
  return firstResetFrom(w, w.hi) - firstResetFrom(w, w.lo + 1);
}

/**
 * rate, increase and delta: the change over the window, corrected for counter resets when
 * isCounter, extrapolated towards the window edges (Prometheus 2.42 order: zero-point clamp
 * first, then the 1.1 × average-interval threshold), per second when isRate.
 */
function extrapolatedRate(w: RangeWindow, isCounter: boolean, isRate: boolean): number | null {
  const { timestamps: ts, values: vs, lo, hi } = w;
  const n = hi - lo;
  if (n < 2) return null;
  const first = vs[lo]!;
  let result = vs[hi - 1]! - first;
  if (isCounter && resetsInWindow(w) > 0) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  const rangeStartMs = w.refMs - w.rangeMs;
  let durationToStart = (ts[lo]! - rangeStartMs) / 1000;
  const durationToEnd = (w.refMs - ts[hi - 1]!) / 1000;
  const sampledInterval = (ts[hi - 1]! - ts[lo]!) / 1000;
  const averageInterval = sampledInterval / (n - 1);
  if (isCounter && result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageInterval * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageInterval / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageInterval / 2;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

/** irate and idelta: from the last two samples only. */
function instantValue(w: RangeWindow, isRate: boolean): number | null {
  if (w.hi - w.lo < 2) return null;
  const last = w.values[w.hi - 1]!;
  const prev = w.values[w.hi - 2]!;
  const result = isRate && last < prev ? last : last - prev;
  const intervalMs = w.timestamps[w.hi - 1]! - w.timestamps[w.hi - 2]!;
  if (intervalMs === 0) return null;
  return isRate ? result / (intervalMs / 1000) : result;
}

/** Least-squares fit with Kahan sums; x in seconds relative to interceptMs. */
function linearRegression(w: RangeWindow, interceptMs: number): [slope: number, intercept: number] {
  let n = 0;
  const sumX = new KahanSum();
  const sumY = new KahanSum();
  const sumXY = new KahanSum();
  const sumX2 = new KahanSum();
  const initY = w.values[w.lo]!;
  let constY = true;
  for (let i = w.lo; i < w.hi; i++) {
    const y = w.values[i]!;
    if (constY && i > w.lo && y !== initY) constY = false;
    n += 1;
    const x = (w.timestamps[i]! - interceptMs) / 1e3;
    sumX.add(x);
    sumY.add(y);
    sumXY.add(x * y);
    sumX2.add(x * x);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [NaN, NaN];
    return [0, initY];
  }
  const sx = sumX.value;
  const sy = sumY.value;
  const covXY = sumXY.value - (sx * sy) / n;
  const varX = sumX2.value - (sx * sx) / n;
  const slope = covXY / varX;
  return [slope, sy / n - (slope * sx) / n];
}

function holtWinters(w: RangeWindow): number | null {
  const sf = w.scalarArgs[1]!;
  const tf = w.scalarArgs[2]!;
  if (!(sf > 0 && sf < 1)) {
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
  }
  if (!(tf > 0 && tf < 1)) {
    throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
  }
  if (w.hi - w.lo < 2) return null;
  const vs = w.values;
  let s0 = 0;
  let s1 = vs[w.lo]!;
  let b = vs[w.lo + 1]! - vs[w.lo]!;
  for (let i = 1; i < w.hi - w.lo; i++) {
    const x = sf * vs[w.lo + i]!;
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

function changes(w: RangeWindow): number {
  let count = 0;
  for (let i = w.lo + 1; i < w.hi; i++) {
    const cur = w.values[i]!;
    const prev = w.values[i - 1]!;
    if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) count++;
  }
  return count;
}

const range = (apply: (w: RangeWindow) => number | null, matrixArg = 0): RangeFunction => ({
  kind: 'range',
  matrixArg,
  apply,
});

const overResets = (apply: (w: RangeWindow) => number | null): RangeFunction => ({
  kind: 'range',
  matrixArg: 0,
  usesResets: true,
  apply,
});

export const RANGE_FUNCTIONS: Readonly<Record<string, RangeFunction>> = {
  rate: overResets((w) => extrapolatedRate(w, true, true)),
  increase: overResets((w) => extrapolatedRate(w, true, false)),
  delta: range((w) => extrapolatedRate(w, false, false)),
  irate: range((w) => instantValue(w, true)),
  idelta: range((w) => instantValue(w, false)),
  deriv: range((w) => (w.hi - w.lo < 2 ? null : linearRegression(w, w.timestamps[w.lo]!)[0])),
  predict_linear: range((w) => {
    if (w.hi - w.lo < 2) return null;
    const [slope, intercept] = linearRegression(w, w.stepMs);
    return slope * w.scalarArgs[1]! + intercept;
  }),
  holt_winters: range(holtWinters),
  resets: overResets(resetsInWindow),
  changes: range(changes),
};

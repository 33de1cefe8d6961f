import { KahanSum, quantileOf } from '../numeric.js';
import type { RangeFunction, RangeWindow } from './types.js';

function avgOverTime(w: RangeWindow): number {
  const mean = new KahanSum();
  let count = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i]!;
    count++;
    const m = mean.sum;
    if (m === Infinity || m === -Infinity) {
      // An infinite mean stays as it is unless a NaN or an opposite infinity arrives.
      if ((v === Infinity || v === -Infinity) && m > 0 === v > 0) continue;
      if (v !== Infinity && v !== -Infinity && !Number.isNaN(v)) continue;
    }
    mean.add(v / count - m / count);
  }
  if (mean.sum === Infinity || mean.sum === -Infinity) return mean.sum;
  return mean.value;
}

function sumOverTime(w: RangeWindow): number {
  const sum = new KahanSum();
  for (let i = w.lo; i < w.hi; i++) sum.add(w.values[i]!);
  if (sum.sum === Infinity || sum.sum === -Infinity) return sum.sum;
  return sum.value;
}

/** Population variance by Welford's method with compensated sums. */
function varianceOverTime(w: RangeWindow): number {
  let count = 0;
  const mean = new KahanSum();
  const aux = new KahanSum();
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i]!;
    count++;
    const delta = v - mean.value;
    mean.add(delta / count);
    aux.add(delta * (v - mean.value));
  }
  return aux.value / count;
}

function extreme(w: RangeWindow, better: (a: number, b: number) => boolean): number {
  let best = w.values[w.lo]!;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i]!;
    if (better(v, best) || Number.isNaN(best)) best = v;
  }
  return best;
}

const overTime = (apply: (w: RangeWindow) => number | null, matrixArg = 0): RangeFunction => ({
  kind: 'range',
  matrixArg,
  apply,
});

export const OVER_TIME_FUNCTIONS: Readonly<Record<string, RangeFunction>> = {
  avg_over_time: overTime(avgOverTime),
  sum_over_time: overTime(sumOverTime),
  count_over_time: overTime((w) => w.hi - w.lo),
  min_over_time: overTime((w) => extreme(w, (a, b) => a < b)),
  max_over_time: overTime((w) => extreme(w, (a, b) => a > b)),
  stddev_over_time: overTime((w) => Math.sqrt(varianceOverTime(w))),
  stdvar_over_time: overTime(varianceOverTime),
  last_over_time: { kind: 'range', matrixArg: 0, keepMetricName: true, apply: (w) => w.values[w.hi - 1]! },
  present_over_time: overTime(() => 1),
  quantile_over_time: overTime(
    (w) => quantileOf(w.scalarArgs[0]!, w.values.subarray(w.lo, w.hi)),
    1,
  ),
  // The evaluator turns "some series had samples" into "absent" over all series.
  absent_over_time: overTime(() => 1),
};

import { kahanSumInc, quantileOf } from '../numeric.js';
import type { RangeFunction, RangeWindow } from './types.js';

function avgOverTime(w: RangeWindow): number {
  let mean = 0;
  let c = 0;
  let count = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i]!;
    count++;
    if (mean === Infinity || mean === -Infinity) {
      // An infinite mean stays as it is unless a NaN or an opposite infinity arrives.
      if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) continue;
      if (v !== Infinity && v !== -Infinity && !Number.isNaN(v)) continue;
    }
    [mean, c] = kahanSumInc(v / count - mean / count, mean, c);
  }
  if (mean === Infinity || mean === -Infinity) return mean;
  return mean + c;
}

function sumOverTime(w: RangeWindow): number {
  let sum = 0;
  let c = 0;
  for (let i = w.lo; i < w.hi; i++) [sum, c] = kahanSumInc(w.values[i]!, sum, c);
  if (sum === Infinity || sum === -Infinity) return sum;
  return sum + c;
}

/** Population variance by Welford's method with compensated sums. */
function varianceOverTime(w: RangeWindow): number {
  let count = 0;
  let mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.values[i]!;
    count++;
    const delta = v - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
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

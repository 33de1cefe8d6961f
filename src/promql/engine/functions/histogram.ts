import type { Labels } from '../../../model/labels.js';
import { getLabel } from '../../../model/labels.js';
import type { EvalValue } from '../values.js';
import { StepOutput, labelsKey, removeLabels } from '../values.js';
import { parseGoFloat } from '../numeric.js';
import { scalarArg, vectorArg } from './common.js';
import type { InstantCall, InstantFunction } from './types.js';

const BUCKET_LABEL = 'le';

interface Bucket {
  upperBound: number;
  count: number;
}

/**
 * The φ-quantile of classic cumulative buckets, interpolating linearly inside the bucket that
 * holds the rank (Prometheus's bucketQuantile, with its edge cases and monotonicity fix).
 */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  let max = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    if (buckets[i]!.count > max) max = buckets[i]!.count;
    else if (buckets[i]!.count < max) buckets[i]!.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = buckets.length - 1;
  for (let i = 0; i < buckets.length - 1; i++) {
    if (buckets[i]!.count >= rank) {
      b = i;
      break;
    }
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function histogramQuantile({ args, grid }: InstantCall): EvalValue {
  const q = scalarArg(args[0]);
  const input = vectorArg(args[1]);
  // Per input series, once: its bucket bound, the key of its histogram and the output labels.
  const bounds: (number | null)[] = [];
  const groupKeys: string[] = [];
  const outLabels = new Map<string, Labels>();
  for (const s of input) {
    const le = getLabel(s.labels, BUCKET_LABEL);
    bounds.push(le === undefined ? null : parseGoFloat(le));
    const withoutLe = removeLabels(s.labels, [BUCKET_LABEL]);
    const key = labelsKey(withoutLe);
    groupKeys.push(key);
    if (!outLabels.has(key)) outLabels.set(key, removeLabels(withoutLe, ['__name__']));
  }
  const out = new StepOutput(grid.steps);
  for (let step = 0; step < grid.steps; step++) {
    const groups = new Map<string, Bucket[]>();
    input.forEach((s, i) => {
      const bound = bounds[i];
      if (s.present[step] !== 1 || bound === null || bound === undefined) return;
      let buckets = groups.get(groupKeys[i]!);
      if (buckets === undefined) groups.set(groupKeys[i]!, (buckets = []));
      buckets.push({ upperBound: bound, count: s.values[step]! });
    });
    for (const [key, buckets] of groups) out.add(outLabels.get(key)!, step, bucketQuantile(q[step]!, buckets));
  }
  return { type: 'vector', series: out.series() };
}

/** Native histograms do not exist here, so these find no histogram samples. */
const nativeOnly: InstantFunction = { kind: 'instant', apply: () => ({ type: 'vector', series: [] }) };

export const HISTOGRAM_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  histogram_quantile: { kind: 'instant', apply: histogramQuantile },
  histogram_count: nativeOnly,
  histogram_sum: nativeOnly,
  histogram_fraction: nativeOnly,
};

import type { Labels } from '../../../model/labels.js';
import { executionError } from '../errors.js';
import type { EvalValue, StepGrid, StepSeries } from '../values.js';
import { StepOutput, dropMetricName, stepTime } from '../values.js';

export function vectorArg(v: EvalValue | undefined): StepSeries[] {
  if (v?.type !== 'vector') throw executionError(`expected instant vector argument, got ${v?.type ?? 'nothing'}`);
  return v.series;
}

export function scalarArg(v: EvalValue | undefined): Float64Array {
  if (v?.type !== 'scalar') throw executionError(`expected scalar argument, got ${v?.type ?? 'nothing'}`);
  return v.values;
}

export function stringArg(v: EvalValue | undefined): string {
  if (v?.type !== 'string') throw executionError(`expected string argument, got ${v?.type ?? 'nothing'}`);
  return v.value;
}

/** Applies f to every value, dropping the metric name (duplicate label sets are an error). */
export function mapValues(
  input: readonly StepSeries[],
  grid: StepGrid,
  f: (v: number, step: number) => number | null,
): EvalValue {
  const out = new StepOutput(grid.steps);
  for (const s of input) {
    const labels = dropMetricName(s.labels);
    for (let step = 0; step < grid.steps; step++) {
      if (s.present[step] !== 1) continue;
      const v = f(s.values[step]!, step);
      if (v !== null) out.add(labels, step, v);
    }
  }
  return { type: 'vector', series: out.series() };
}

export function scalarValue(grid: StepGrid, f: (tMs: number) => number): EvalValue {
  const values = new Float64Array(grid.steps);
  for (let step = 0; step < grid.steps; step++) values[step] = f(stepTime(grid, step));
  return { type: 'scalar', values };
}

/** One series with the given labels and a value at every step. */
export function constantVector(labels: Labels, grid: StepGrid, f: (tMs: number) => number): EvalValue {
  const out = new StepOutput(grid.steps);
  for (let step = 0; step < grid.steps; step++) out.add(labels, step, f(stepTime(grid, step)));
  return { type: 'vector', series: out.series() };
}

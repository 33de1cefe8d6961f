import type { Label, Labels } from '../../../model/labels.js';
import { METRIC_NAME, sortLabels } from '../../../model/labels.js';
import type { Expr } from '../../parser/ast.js';
import type { EvalValue, StepSeries } from '../values.js';
import { StepOutput } from '../values.js';
import { scalarArg, vectorArg } from './common.js';
import type { InstantCall, InstantFunction } from './types.js';

/**
 * The labels absent() reports for its argument: from the selector's `=` matchers, a label
 * named twice, or also matched some other way, is left out. Any other argument gives none.
 */
export function absentLabels(arg: Expr | undefined): Labels {
  let e = arg;
  while (e?.kind === 'ParenExpr' || e?.kind === 'StepInvariantExpr') e = e.expr;
  const selector = e?.kind === 'VectorSelector' ? e : e?.kind === 'MatrixSelector' ? e.vector : null;
  if (selector === null) return [];
  const set = new Map<string, string>();
  const seen = new Set<string>();
  for (const m of selector.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !seen.has(m.name)) {
      set.set(m.name, m.value);
      seen.add(m.name);
    } else {
      set.delete(m.name);
    }
  }
  const labels: Label[] = [...set].filter(([, v]) => v !== '').map(([name, value]) => ({ name, value }));
  return sortLabels(labels);
}

function absent({ args, exprs, grid }: InstantCall): EvalValue {
  const input = vectorArg(args[0]);
  const labels = absentLabels(exprs[0]);
  const out = new StepOutput(grid.steps);
  for (let step = 0; step < grid.steps; step++) {
    if (!input.some((s) => s.present[step] === 1)) out.add(labels, step, 1);
  }
  return { type: 'vector', series: out.series() };
}

function scalar({ args, grid }: InstantCall): EvalValue {
  const input = vectorArg(args[0]);
  const values = new Float64Array(grid.steps);
  for (let step = 0; step < grid.steps; step++) {
    let count = 0;
    let value = NaN;
    for (const s of input) {
      if (s.present[step] !== 1) continue;
      count++;
      value = s.values[step]!;
    }
    values[step] = count === 1 ? value : NaN;
  }
  return { type: 'scalar', values };
}

function vector({ args, grid }: InstantCall): EvalValue {
  const values = scalarArg(args[0]);
  const out = new StepOutput(grid.steps);
  for (let step = 0; step < grid.steps; step++) out.add([], step, values[step]!);
  return { type: 'vector', series: out.series() };
}

/**
 * sort / sort_desc order a one-step result by value, NaN last. Over several steps the order
 * has no meaning (range results are ordered by labels), so series pass through unchanged.
 */
const sortBy = (descending: boolean): InstantFunction => ({
  kind: 'instant',
  apply: ({ args, grid }) => {
    const input = vectorArg(args[0]);
    if (grid.steps !== 1) return { type: 'vector', series: input };
    const before = (a: StepSeries, b: StepSeries): boolean => {
      const x = a.values[0]!;
      const y = b.values[0]!;
      if (Number.isNaN(y)) return !Number.isNaN(x);
      return descending ? x > y : x < y;
    };
    const sorted = [...input].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return { type: 'vector', series: sorted };
  },
});

export const INSTANT_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  absent: { kind: 'instant', apply: absent },
  scalar: { kind: 'instant', apply: scalar },
  vector: { kind: 'instant', apply: vector },
  sort: sortBy(false),
  sort_desc: sortBy(true),
};

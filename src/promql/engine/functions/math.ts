import type { EvalValue } from '../values.js';
import { mapValues, scalarArg, scalarValue, vectorArg } from './common.js';
import type { InstantCall, InstantFunction } from './types.js';

const elementwise = (f: (v: number) => number): InstantFunction => ({
  kind: 'instant',
  apply: ({ args, grid }) => mapValues(vectorArg(args[0]), grid, f),
});

function sgn(v: number): number {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v;
}

function clamp({ args, grid }: InstantCall): EvalValue {
  const min = scalarArg(args[1]);
  const max = scalarArg(args[2]);
  return mapValues(vectorArg(args[0]), grid, (v, step) =>
    max[step]! < min[step]! ? null : Math.max(min[step]!, Math.min(max[step]!, v)),
  );
}

function clampMin({ args, grid }: InstantCall): EvalValue {
  const min = scalarArg(args[1]);
  return mapValues(vectorArg(args[0]), grid, (v, step) => Math.max(min[step]!, v));
}

function clampMax({ args, grid }: InstantCall): EvalValue {
  const max = scalarArg(args[1]);
  return mapValues(vectorArg(args[0]), grid, (v, step) => Math.min(max[step]!, v));
}

/** round(v, to_nearest=1): ties round up; the inverse is used as Prometheus does for accuracy. */
function round({ args, grid }: InstantCall): EvalValue {
  const toNearest = args.length > 1 ? scalarArg(args[1]) : null;
  return mapValues(vectorArg(args[0]), grid, (v, step) => {
    const inverse = 1 / (toNearest === null ? 1 : toNearest[step]!);
    return Math.floor(v * inverse + 0.5) / inverse;
  });
}

export const MATH_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  abs: elementwise(Math.abs),
  ceil: elementwise(Math.ceil),
  floor: elementwise(Math.floor),
  exp: elementwise(Math.exp),
  sqrt: elementwise(Math.sqrt),
  ln: elementwise(Math.log),
  log2: elementwise(Math.log2),
  log10: elementwise(Math.log10),
  sgn: elementwise(sgn),
  sin: elementwise(Math.sin),
  cos: elementwise(Math.cos),
  tan: elementwise(Math.tan),
  asin: elementwise(Math.asin),
  acos: elementwise(Math.acos),
  atan: elementwise(Math.atan),
  sinh: elementwise(Math.sinh),
  cosh: elementwise(Math.cosh),
  tanh: elementwise(Math.tanh),
  asinh: elementwise(Math.asinh),
  acosh: elementwise(Math.acosh),
  atanh: elementwise(Math.atanh),
  rad: elementwise((v) => (v * Math.PI) / 180),
  deg: elementwise((v) => (v * 180) / Math.PI),
  pi: { kind: 'instant', apply: ({ grid }) => scalarValue(grid, () => Math.PI) },
  clamp: { kind: 'instant', apply: clamp },
  clamp_min: { kind: 'instant', apply: clampMin },
  clamp_max: { kind: 'instant', apply: clampMax },
  round: { kind: 'instant', apply: round },
};

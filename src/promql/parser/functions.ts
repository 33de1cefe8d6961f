import type { ValueType } from './ast.js';

/** The signature of a PromQL function, as the parser checks it. */
export interface FunctionSignature {
  readonly name: string;
  /** Types of the positional arguments; for a variadic function the last one repeats. */
  readonly argTypes: readonly ValueType[];
  /**
   * 0: exactly argTypes.length arguments. n > 0: the last argument is optional and may repeat,
   * so argTypes.length - 1 up to argTypes.length - 1 + n arguments. -1: argTypes.length - 1 or
   * more arguments, the extra ones of the last type.
   */
  readonly variadic: number;
  readonly returnType: ValueType;
  /** Behind a feature flag in Prometheus; none are in 2.42. */
  readonly experimental: boolean;
}

function fn(
  name: string,
  argTypes: readonly ValueType[],
  returnType: ValueType,
  variadic = 0,
): FunctionSignature {
  return { name, argTypes, variadic, returnType, experimental: false };
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const SIGNATURES: readonly FunctionSignature[] = [
  fn('abs', [V], V),
  fn('absent', [V], V),
  fn('absent_over_time', [M], V),
  fn('acos', [V], V),
  fn('acosh', [V], V),
  fn('asin', [V], V),
  fn('asinh', [V], V),
  fn('atan', [V], V),
  fn('atanh', [V], V),
  fn('avg_over_time', [M], V),
  fn('ceil', [V], V),
  fn('changes', [M], V),
  fn('clamp', [V, S, S], V),
  fn('clamp_max', [V, S], V),
  fn('clamp_min', [V, S], V),
  fn('cos', [V], V),
  fn('cosh', [V], V),
  fn('count_over_time', [M], V),
  fn('days_in_month', [V], V, 1),
  fn('day_of_month', [V], V, 1),
  fn('day_of_week', [V], V, 1),
  fn('day_of_year', [V], V, 1),
  fn('deg', [V], V),
  fn('delta', [M], V),
  fn('deriv', [M], V),
  fn('exp', [V], V),
  fn('floor', [V], V),
  fn('histogram_count', [V], V),
  fn('histogram_sum', [V], V),
  fn('histogram_fraction', [S, S, V], V),
  fn('histogram_quantile', [S, V], V),
  fn('holt_winters', [M, S, S], V),
  fn('hour', [V], V, 1),
  fn('idelta', [M], V),
  fn('increase', [M], V),
  fn('irate', [M], V),
  fn('label_replace', [V, STR, STR, STR, STR], V),
  fn('label_join', [V, STR, STR, STR], V, -1),
  fn('last_over_time', [M], V),
  fn('ln', [V], V),
  fn('log10', [V], V),
  fn('log2', [V], V),
  fn('max_over_time', [M], V),
  fn('min_over_time', [M], V),
  fn('minute', [V], V, 1),
  fn('month', [V], V, 1),
  fn('pi', [], S),
  fn('predict_linear', [M, S], V),
  fn('present_over_time', [M], V),
  fn('quantile_over_time', [S, M], V),
  fn('rad', [V], V),
  fn('rate', [M], V),
  fn('resets', [M], V),
  fn('round', [V, S], V, 1),
  fn('scalar', [V], S),
  fn('sgn', [V], V),
  fn('sin', [V], V),
  fn('sinh', [V], V),
  fn('sort', [V], V),
  fn('sort_desc', [V], V),
  fn('sqrt', [V], V),
  fn('stddev_over_time', [M], V),
  fn('stdvar_over_time', [M], V),
  fn('sum_over_time', [M], V),
  fn('tan', [V], V),
  fn('tanh', [V], V),
  fn('time', [], S),
  fn('timestamp', [V], V),
  fn('vector', [S], V),
  fn('year', [V], V, 1),
];

/** Every function of Prometheus 2.42's PromQL, keyed by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(
  SIGNATURES.map((s) => [s.name, s]),
);

export function getFunction(name: string): FunctionSignature | undefined {
  return FUNCTIONS.get(name);
}

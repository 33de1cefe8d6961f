import { HISTOGRAM_FUNCTIONS } from './histogram.js';
import { INSTANT_FUNCTIONS } from './instant.js';
import { LABEL_FUNCTIONS } from './label.js';
import { MATH_FUNCTIONS } from './math.js';
import { OVER_TIME_FUNCTIONS } from './over-time.js';
import { RANGE_FUNCTIONS } from './range.js';
import { TIME_FUNCTIONS } from './time.js';
import type { FunctionImpl } from './types.js';

export type { FunctionImpl, InstantCall, InstantFunction, RangeFunction, RangeWindow } from './types.js';

/** Every PromQL function of Prometheus 2.42, by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionImpl> = new Map<string, FunctionImpl>(
  Object.entries({
    ...RANGE_FUNCTIONS,
    ...OVER_TIME_FUNCTIONS,
    ...MATH_FUNCTIONS,
    ...LABEL_FUNCTIONS,
    ...TIME_FUNCTIONS,
    ...HISTOGRAM_FUNCTIONS,
    ...INSTANT_FUNCTIONS,
  }),
);

/** Functions whose result depends on the evaluation time even when their inputs do not. */
export const AT_MODIFIER_UNSAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'time',
  'timestamp',
]);

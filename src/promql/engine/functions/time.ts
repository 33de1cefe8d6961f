import type { EvalValue } from '../values.js';
import { constantVector, mapValues, scalarValue, vectorArg } from './common.js';
import type { InstantCall, InstantFunction } from './types.js';

const DAY_MS = 86_400_000;

/** Go's time.Unix(int64(v), 0).UTC() as a Date (v in seconds, truncated toward zero). */
function dateOf(seconds: number): Date {
  return new Date(Math.trunc(seconds) * 1000);
}

function dayOfYear(d: Date): number {
  return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

function daysInMonth(d: Date): number {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

/** A date function: of the argument's values (seconds), or of the evaluation time without one. */
const dateFunction = (f: (d: Date) => number): InstantFunction => ({
  kind: 'instant',
  apply: ({ args, grid }: InstantCall): EvalValue => {
    if (args.length === 0) return constantVector([], grid, (tMs) => f(dateOf(Math.trunc(tMs / 1000))));
    return mapValues(vectorArg(args[0]), grid, (v) => f(dateOf(v)));
  },
});

export const TIME_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  time: { kind: 'instant', apply: ({ grid }) => scalarValue(grid, (tMs) => tMs / 1000) },
  // The evaluator hands timestamp() a vector whose values are already the sample times.
  timestamp: { kind: 'instant', apply: ({ args, grid }) => mapValues(vectorArg(args[0]), grid, (v) => v) },
  day_of_month: dateFunction((d) => d.getUTCDate()),
  day_of_week: dateFunction((d) => d.getUTCDay()),
  day_of_year: dateFunction(dayOfYear),
  days_in_month: dateFunction(daysInMonth),
  hour: dateFunction((d) => d.getUTCHours()),
  minute: dateFunction((d) => d.getUTCMinutes()),
  month: dateFunction((d) => d.getUTCMonth() + 1),
  year: dateFunction((d) => d.getUTCFullYear()),
};

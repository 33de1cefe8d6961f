import type { Expr } from '../../parser/ast.js';
import type { EvalValue, StepGrid } from '../values.js';

/** The samples of one series inside one step's range window: indexes lo (inclusive) to hi. */
export interface RangeWindow {
  timestamps: Float64Array;
  values: Float64Array;
  lo: number;
  hi: number;
  /** The evaluation time of the step. */
  stepMs: number;
  /** The window end (step or @ time, minus offset); the window start is refMs - rangeMs. */
  refMs: number;
  rangeMs: number;
  /** Values at this step of the scalar arguments, by argument position (the range one unused). */
  scalarArgs: number[];
  /**
   * Ascending indexes i of the whole series where values[i] < values[i - 1] (counter resets),
   * found once per series for the functions that ask for them (usesResets), else empty.
   */
  resets: number[];
}

/** A function over one range-vector argument, called per series per step with a window. */
export interface RangeFunction {
  readonly kind: 'range';
  /** Position of the range-vector argument. */
  readonly matrixArg: number;
  /** Only last_over_time keeps the metric name. */
  readonly keepMetricName?: boolean;
  /** Reads RangeWindow.resets. */
  readonly usesResets?: boolean;
  /** The output value for one window, or null for no output. */
  readonly apply: (w: RangeWindow) => number | null;
}

export interface InstantCall {
  /** Evaluated arguments (string arguments evaluate to their literal). */
  readonly args: readonly EvalValue[];
  /** The argument expressions (absent() builds labels from them). */
  readonly exprs: readonly Expr[];
  readonly grid: StepGrid;
}

/** A function over instant vectors and scalars, evaluated over the whole grid at once. */
export interface InstantFunction {
  readonly kind: 'instant';
  readonly apply: (call: InstantCall) => EvalValue;
}

export type FunctionImpl = RangeFunction | InstantFunction;

import { MetricstorError } from '../../errors.js';
import type { Labels } from '../../model/labels.js';
import { METRIC_NAME, getLabel } from '../../model/labels.js';
import type { SeriesData } from '../../storage/types.js';
import type {
  AggregateExpr,
  BinaryExpr,
  Call,
  Expr,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from '../parser/ast.js';
import { aggregate } from './aggregate.js';
import { scalarScalar, vectorScalar, vectorSetOp, vectorVector } from './binary.js';
import {
  canceledError,
  duplicateLabelsetError,
  executionError,
  timeoutError,
  tooManySamplesError,
} from './errors.js';
import { FUNCTIONS } from './functions/index.js';
import type { RangeFunction, RangeWindow } from './functions/index.js';
import { absentLabels } from './functions/instant.js';
import type { SelectedData } from './select.js';
import { subqueryWindow } from './select.js';
import { WindowSlider, findResets, instantSampleIndexes, rangeSamples, withoutStaleMarkers } from './selectors.js';
import type { EvalValue, SampleSeries, StepGrid, StepSeries } from './values.js';
import { StepSeriesMaker, countPresent, dropMetricName, labelsKey, makeGrid, newStepSeries, stepTime } from './values.js';

export interface EvalContext {
  readonly data: SelectedData;
  readonly lookbackMs: number;
  readonly defaultSubqueryStepMs: number;
  readonly maxSamples: number;
  /** Samples already loaded from storage; counted against maxSamples with each node's output. */
  readonly loadedSamples: number;
  /** Date.now() value after which evaluation stops with a timeout error. */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
}

interface RangeSource {
  readonly series: readonly SampleSeries[];
  /**
   * The series are stored ones: no two have the same labels, and their staleness markers are
   * still in (rangeSamples leaves them out, one series at a time).
   */
  readonly fromStorage: boolean;
  readonly atMs: number | null;
  readonly offsetMs: number;
  readonly rangeMs: number;
}

/** Strips parentheses and step-invariance markers, which do not change what a node is. */
export function unwrap(expr: Expr): Expr {
  let e = expr;
  while (e.kind === 'ParenExpr' || e.kind === 'StepInvariantExpr') e = e.expr;
  return e;
}

function atMsOf(e: VectorSelector | SubqueryExpr): number | null {
  return e.at?.kind === 'timestamp' ? e.at.ms : null;
}

/**
 * Evaluates a preprocessed AST over a grid of steps, synchronously and in memory: every
 * selector's samples were fetched beforehand. Each node yields its values at every step at once.
 */
export class Evaluator {
  constructor(private readonly ctx: EvalContext) {}

  /** Throws when the deadline has passed or the caller went away. */
  checkDone(): void {
    if (this.ctx.signal?.aborted) throw canceledError();
    if (Date.now() > this.ctx.deadlineMs) throw timeoutError();
  }

  eval(expr: Expr, grid: StepGrid): EvalValue {
    this.checkDone();
    const value = this.evalNode(expr, grid);
    if (value.type === 'vector') {
      let points = 0;
      for (const s of value.series) points += countPresent(s);
      this.checkSamples(points);
    } else if (value.type === 'matrix') {
      let points = 0;
      for (const s of value.series) points += s.values.length;
      this.checkSamples(points);
    }
    return value;
  }

  private checkSamples(points: number): void {
    if (this.ctx.loadedSamples + points > this.ctx.maxSamples) throw tooManySamplesError();
  }

  /**
   * Series hold one slot per step whether or not they have a point there, so memory grows with
   * series × steps: refuse before that exceeds twice the sample budget.
   */
  private checkSlots(series: number, steps: number): void {
    if (series * steps > 2 * this.ctx.maxSamples) throw tooManySamplesError();
  }

  private evalNode(expr: Expr, grid: StepGrid): EvalValue {
    switch (expr.kind) {
      case 'NumberLiteral':
        return { type: 'scalar', values: new Float64Array(grid.steps).fill(expr.value) };
      case 'StringLiteral':
        return { type: 'string', value: expr.value };
      case 'ParenExpr':
        return this.eval(expr.expr, grid);
      case 'StepInvariantExpr':
        return this.evalStepInvariant(expr.expr, grid);
      case 'VectorSelector':
        return { type: 'vector', series: this.selectInstant(expr, grid, false) };
      case 'MatrixSelector': {
        if (grid.steps !== 1) throw executionError('cannot do range evaluation of matrix selector');
        return { type: 'matrix', series: this.windowsAtFirstStep(this.rangeSource(expr, grid), grid) };
      }
      case 'SubqueryExpr':
        return { type: 'matrix', series: this.evalSubquery(expr, grid) };
      case 'UnaryExpr':
        return this.evalUnary(expr.op, expr.expr, grid);
      case 'BinaryExpr':
        return this.evalBinary(expr, grid);
      case 'AggregateExpr':
        return this.evalAggregate(expr, grid);
      case 'Call':
        return this.evalCall(expr, grid);
    }
  }

  /** Evaluates once at the first step and repeats the result at every step. */
  private evalStepInvariant(inner: Expr, grid: StepGrid): EvalValue {
    const bare = unwrap(inner);
    if (bare.kind === 'NumberLiteral' || bare.kind === 'StringLiteral') return this.eval(bare, grid);
    const once = this.eval(inner, makeGrid(grid.startMs, grid.startMs, grid.intervalMs));
    if (grid.steps === 1) return once;
    switch (once.type) {
      case 'scalar':
        return { type: 'scalar', values: new Float64Array(grid.steps).fill(once.values[0]!) };
      case 'vector':
        return {
          type: 'vector',
          series: once.series
            .filter((s) => s.present[0] === 1)
            .map((s) => ({
              labels: s.labels,
              values: new Float64Array(grid.steps).fill(s.values[0]!),
              present: new Uint8Array(grid.steps).fill(1),
            })),
        };
      default:
        return once;
    }
  }

  private selectorData(selector: VectorSelector): readonly SeriesData[] {
    const data = this.ctx.data.get(selector);
    if (data === undefined) throw new MetricstorError('internal', 'selector evaluated without fetched data');
    return data;
  }

  /** An instant vector selector: values, or (for timestamp()) the sample times in seconds. */
  private selectInstant(e: VectorSelector, grid: StepGrid, sampleTimes: boolean): StepSeries[] {
    const out: StepSeries[] = [];
    const atMs = atMsOf(e);
    // Prometheus reads timestamp(x @ t) exactly at t at every step, leaving out any offset.
    const pinnedExactly = sampleTimes && atMs !== null;
    const stepGrid = pinnedExactly ? { ...grid, intervalMs: 0 } : grid;
    const offsetMs = pinnedExactly ? 0 : e.offsetMs;
    const data = this.selectorData(e);
    const maker = new StepSeriesMaker(grid.steps, data.length);
    const idx = new Int32Array(grid.steps);
    for (const s of data) {
      if (!instantSampleIndexes(s, stepGrid, atMs, offsetMs, this.ctx.lookbackMs, idx)) continue;
      this.checkSlots(out.length + 1, grid.steps);
      const series = maker.make(s.labels);
      for (let step = 0; step < grid.steps; step++) {
        const i = idx[step]!;
        if (i < 0) continue;
        series.present[step] = 1;
        series.values[step] = sampleTimes ? s.timestamps[i]! / 1000 : s.values[i]!;
      }
      out.push(series);
    }
    return out;
  }

  private rangeSource(expr: Expr, grid: StepGrid): RangeSource {
    const e = unwrap(expr);
    if (e.kind === 'MatrixSelector') {
      return {
        series: this.selectorData(e.vector),
        fromStorage: true,
        atMs: atMsOf(e.vector),
        offsetMs: e.vector.offsetMs,
        rangeMs: e.rangeMs,
      };
    }
    if (e.kind === 'SubqueryExpr') {
      return {
        series: this.evalSubquery(e, grid),
        fromStorage: false,
        atMs: atMsOf(e),
        offsetMs: e.offsetMs,
        rangeMs: e.rangeMs,
      };
    }
    throw executionError(`expected range vector, got ${e.kind}`);
  }

  /** The raw samples of every series inside the first step's window (a top-level range selector). */
  private windowsAtFirstStep(src: RangeSource, grid: StepGrid): SampleSeries[] {
    const out: SampleSeries[] = [];
    const window = new WindowSlider(grid, src.atMs, src.offsetMs, src.rangeMs);
    for (const stored of src.series) {
      const s = src.fromStorage ? withoutStaleMarkers(stored) : stored;
      window.reset(s.timestamps);
      if (!window.moveTo(0)) continue;
      const { lo, hi } = window;
      out.push({ labels: s.labels, timestamps: s.timestamps.slice(lo, hi), values: s.values.slice(lo, hi) });
    }
    return out;
  }

  /** Evaluates the inside of a subquery at its own steps (absolute multiples of its step). */
  private evalSubquery(e: SubqueryExpr, grid: StepGrid): SampleSeries[] {
    const w = subqueryWindow(e, grid, this.ctx.defaultSubqueryStepMs);
    if (w.startMs > w.endMs) return [];
    const inner = makeGrid(w.startMs, w.endMs, w.stepMs);
    this.checkSlots(1, inner.steps);
    const value = this.eval(e.expr, inner);
    const stepTimes = Float64Array.from({ length: inner.steps }, (_, i) => stepTime(inner, i));
    if (value.type === 'scalar') return [{ labels: [], timestamps: stepTimes, values: value.values }];
    if (value.type !== 'vector') throw executionError(`subquery over ${value.type} is not supported`);
    return value.series.map((s) => {
      const n = countPresent(s);
      const timestamps = new Float64Array(n);
      const values = new Float64Array(n);
      let k = 0;
      for (let i = 0; i < inner.steps; i++) {
        if (s.present[i] !== 1) continue;
        timestamps[k] = stepTimes[i]!;
        values[k] = s.values[i]!;
        k++;
      }
      return { labels: s.labels, timestamps, values };
    });
  }

  private evalUnary(op: '+' | '-', operand: Expr, grid: StepGrid): EvalValue {
    const v = this.eval(operand, grid);
    if (op === '+') return v;
    if (v.type === 'scalar') return { type: 'scalar', values: v.values.map((x) => -x) };
    if (v.type !== 'vector') throw executionError(`unary minus not allowed on ${v.type}`);
    const series = v.series.map((s) => ({
      labels: dropMetricName(s.labels),
      values: s.values.map((x) => -x),
      present: s.present,
    }));
    assertUniqueLabels(series);
    return { type: 'vector', series };
  }

  private evalBinary(e: BinaryExpr, grid: StepGrid): EvalValue {
    const lhs = this.eval(e.lhs, grid);
    const rhs = this.eval(e.rhs, grid);
    if (lhs.type === 'scalar' && rhs.type === 'scalar') {
      return { type: 'scalar', values: scalarScalar(e.op, lhs.values, rhs.values) };
    }
    if (lhs.type === 'vector' && rhs.type === 'vector') {
      const matching = e.matching ?? defaultMatching(e.op);
      if (e.op === 'and' || e.op === 'or' || e.op === 'unless') {
        return { type: 'vector', series: vectorSetOp(e.op, matching, lhs.series, rhs.series, grid) };
      }
      return { type: 'vector', series: vectorVector(e.op, matching, e.returnBool, lhs.series, rhs.series, grid) };
    }
    if (lhs.type === 'vector' && rhs.type === 'scalar') {
      return { type: 'vector', series: vectorScalar(e.op, lhs.series, rhs.values, false, e.returnBool, grid) };
    }
    if (lhs.type === 'scalar' && rhs.type === 'vector') {
      return { type: 'vector', series: vectorScalar(e.op, rhs.series, lhs.values, true, e.returnBool, grid) };
    }
    throw executionError(`binary operator "${e.op}" not allowed between ${lhs.type} and ${rhs.type}`);
  }

  private evalAggregate(e: AggregateExpr, grid: StepGrid): EvalValue {
    let scalarParam: Float64Array | null = null;
    let stringParam: string | null = null;
    if (e.param !== null) {
      const p = this.eval(e.param, grid);
      if (p.type === 'scalar') scalarParam = p.values;
      else if (p.type === 'string') stringParam = p.value;
      else throw executionError(`invalid parameter type ${p.type} for ${e.op}`);
    }
    const input = this.eval(e.expr, grid);
    if (input.type !== 'vector') throw executionError(`expected instant vector in aggregation, got ${input.type}`);
    const spec = { op: e.op, grouping: e.grouping, without: e.without, scalarParam, stringParam };
    return { type: 'vector', series: aggregate(spec, input.series, grid) };
  }

  private evalCall(e: Call, grid: StepGrid): EvalValue {
    const impl = FUNCTIONS.get(e.func);
    if (impl === undefined) throw executionError(`unknown function ${e.func}`);
    if (impl.kind === 'range') return this.evalRangeCall(e, impl, grid);
    if (e.func === 'timestamp') {
      const arg = unwrap(e.args[0]!);
      const input: EvalValue =
        arg.kind === 'VectorSelector'
          ? { type: 'vector', series: this.selectInstant(arg, grid, true) }
          : this.stepTimesOf(this.eval(e.args[0]!, grid), grid);
      return impl.apply({ args: [input], exprs: e.args, grid });
    }
    const args = e.args.map((a) => this.eval(a, grid));
    return impl.apply({ args, exprs: e.args, grid });
  }

  /** timestamp() of a computed vector: every sample carries its evaluation time. */
  private stepTimesOf(v: EvalValue, grid: StepGrid): EvalValue {
    if (v.type !== 'vector') return v;
    return {
      type: 'vector',
      series: v.series.map((s) => ({
        labels: s.labels,
        present: s.present,
        values: Float64Array.from({ length: grid.steps }, (_, i) => stepTime(grid, i) / 1000),
      })),
    };
  }

  /**
   * A function over a range vector: one series at a time, its window slid across all steps, so
   * each series' samples are visited in order once.
   */
  private evalRangeCall(e: Call, impl: RangeFunction, grid: StepGrid): EvalValue {
    const scalarArgs = e.args.map((a, i) => {
      if (i === impl.matrixArg) return null;
      const v = this.eval(a, grid);
      if (v.type !== 'scalar') throw executionError(`expected scalar argument to ${e.func}, got ${v.type}`);
      return v.values;
    });
    const src = this.rangeSource(e.args[impl.matrixArg]!, grid);
    const window: RangeWindow = {
      timestamps: new Float64Array(0),
      values: new Float64Array(0),
      lo: 0,
      hi: 0,
      stepMs: 0,
      refMs: 0,
      rangeMs: src.rangeMs,
      scalarArgs: new Array<number>(e.args.length).fill(0),
      resets: [],
    };
    const hasScalarArgs = scalarArgs.some((a) => a !== null);
    const slider = new WindowSlider(grid, src.atMs, src.offsetMs, src.rangeMs);
    const maker = new StepSeriesMaker(grid.steps, src.series.length);
    const out: StepSeries[] = [];
    const resets = impl.usesResets ? window.resets : null;
    for (const stored of src.series) {
      this.checkDone();
      let result: StepSeries | null = null;
      const s = src.fromStorage ? rangeSamples(stored, resets) : stored;
      if (!src.fromStorage && resets !== null) findResets(s.values, resets);
      window.timestamps = s.timestamps;
      window.values = s.values;
      slider.reset(s.timestamps);
      for (let step = 0; step < grid.steps; step++) {
        if (!slider.moveTo(step)) continue;
        window.lo = slider.lo;
        window.hi = slider.hi;
        window.refMs = slider.refMs;
        window.stepMs = grid.startMs + step * grid.intervalMs;
        if (hasScalarArgs) {
          for (let j = 0; j < scalarArgs.length; j++) {
            const arg = scalarArgs[j];
            if (arg) window.scalarArgs[j] = arg[step]!;
          }
        }
        const v = impl.apply(window);
        if (v === null) continue;
        if (result === null) {
          this.checkSlots(out.length + 1, grid.steps);
          result = maker.make(impl.keepMetricName ? s.labels : dropMetricName(s.labels));
        }
        result.values[step] = v;
        result.present[step] = 1;
      }
      if (result !== null) out.push(result);
    }
    if (e.func === 'absent_over_time') return absentOverTime(out, absentLabels(e.args[0]), grid);
    // Distinct stored series stay distinct when they lose one and the same metric name.
    if (!(src.fromStorage && (impl.keepMetricName === true || oneMetricName(src.series)))) assertUniqueLabels(out);
    return { type: 'vector', series: out };
  }
}

/** 1 at the steps where no series had samples in its window. */
function absentOverTime(found: readonly StepSeries[], labels: Labels, grid: StepGrid): EvalValue {
  const result = newStepSeries(labels, grid.steps);
  let any = false;
  for (let step = 0; step < grid.steps; step++) {
    if (found.some((s) => s.present[step] === 1)) continue;
    result.values[step] = 1;
    result.present[step] = 1;
    any = true;
  }
  return { type: 'vector', series: any ? [result] : [] };
}

function oneMetricName(series: readonly SampleSeries[]): boolean {
  if (series.length === 0) return true;
  const name = getLabel(series[0]!.labels, METRIC_NAME);
  return series.every((s) => getLabel(s.labels, METRIC_NAME) === name);
}

function assertUniqueLabels(series: readonly StepSeries[]): void {
  if (series.length < 2) return;
  const seen = new Set<string>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    if (seen.has(key)) throw duplicateLabelsetError();
    seen.add(key);
  }
}

function defaultMatching(op: string): VectorMatching {
  const setOp = op === 'and' || op === 'or' || op === 'unless';
  return { card: setOp ? 'many-to-many' : 'one-to-one', labels: [], on: false, include: [] };
}

import type { Labels } from '../../model/labels.js';
import { METRIC_NAME, getLabel } from '../../model/labels.js';
import type { BinaryOp, VectorMatching } from '../parser/ast.js';
import { executionError } from './errors.js';
import { goPow } from './numeric.js';
import type { StepGrid, StepSeries } from './values.js';
import {
  StepOutput,
  dropMetricName,
  keepLabels,
  labelsKey,
  labelsString,
  removeLabels,
  subsetKey,
  withLabel,
} from './values.js';

const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
const DROPS_NAME: ReadonlySet<BinaryOp> = new Set(['+', '-', '*', '/', '%', '^']);

export function isComparison(op: BinaryOp): boolean {
  return COMPARISONS.has(op);
}

/** An arithmetic operator applied with Go's float semantics. */
function arithmetic(op: BinaryOp, lhs: number, rhs: number): number {
  switch (op) {
    case '+':
      return lhs + rhs;
    case '-':
      return lhs - rhs;
    case '*':
      return lhs * rhs;
    case '/':
      return lhs / rhs;
    case '%':
      return lhs % rhs; // same as Go's math.Mod, including the sign and NaN cases
    case '^':
      return goPow(lhs, rhs);
    case 'atan2':
      return Math.atan2(lhs, rhs);
    default:
      throw executionError(`operator "${op}" not allowed for operations between vectors or scalars`);
  }
}

function compare(op: BinaryOp, lhs: number, rhs: number): boolean {
  switch (op) {
    case '==':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
    case '>':
      return lhs > rhs;
    case '<':
      return lhs < rhs;
    case '>=':
      return lhs >= rhs;
    case '<=':
      return lhs <= rhs;
    default:
      throw executionError(`operator "${op}" is not a comparison`);
  }
}

export function scalarScalar(op: BinaryOp, lhs: Float64Array, rhs: Float64Array): Float64Array {
  const out = new Float64Array(lhs.length);
  const comparison = isComparison(op);
  for (let i = 0; i < lhs.length; i++) {
    out[i] = comparison ? (compare(op, lhs[i]!, rhs[i]!) ? 1 : 0) : arithmetic(op, lhs[i]!, rhs[i]!);
  }
  return out;
}

/** `vector op scalar`, or `scalar op vector` when swap. Filtering comparisons keep the vector value. */
export function vectorScalar(
  op: BinaryOp,
  vec: readonly StepSeries[],
  scalar: Float64Array,
  swap: boolean,
  returnBool: boolean,
  grid: StepGrid,
): StepSeries[] {
  const out = new StepOutput(grid.steps);
  const comparison = isComparison(op);
  for (const s of vec) {
    const labels = DROPS_NAME.has(op) || returnBool ? dropMetricName(s.labels) : s.labels;
    for (let step = 0; step < grid.steps; step++) {
      if (s.present[step] !== 1) continue;
      const v = s.values[step]!;
      const sv = scalar[step]!;
      if (!comparison) {
        out.add(labels, step, swap ? arithmetic(op, sv, v) : arithmetic(op, v, sv));
        continue;
      }
      // A filtering comparison keeps the vector's value, whichever side it is on.
      const keep = swap ? compare(op, sv, v) : compare(op, v, sv);
      if (returnBool) out.add(labels, step, keep ? 1 : 0);
      else if (keep) out.add(labels, step, v);
    }
  }
  return out.series();
}

/**
 * The key two series must share to match: the on(...) labels, or all but ignoring(...) and the
 * name; built straight from each label set, without making the subset.
 */
function signatureOf(matching: VectorMatching): (labels: Labels) => string {
  if (matching.on) return (labels) => subsetKey(labels, matching.labels, true);
  const ignored = [...matching.labels, METRIC_NAME];
  return (labels) => subsetKey(labels, ignored, false);
}

/** The labels of the match group, as Prometheus prints them in its errors. */
function matchGroupLabels(labels: Labels, matching: VectorMatching): Labels {
  return matching.on ? keepLabels(labels, matching.labels) : removeLabels(labels, [...matching.labels, METRIC_NAME]);
}

function presentAt(series: readonly StepSeries[], step: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < series.length; i++) if (series[i]!.present[step] === 1) idx.push(i);
  return idx;
}

/** and / or / unless: labels and values pass through, matched by signature. */
export function vectorSetOp(
  op: 'and' | 'or' | 'unless',
  matching: VectorMatching,
  lhs: readonly StepSeries[],
  rhs: readonly StepSeries[],
  grid: StepGrid,
): StepSeries[] {
  const signature = signatureOf(matching);
  const lhsSigs = lhs.map((s) => signature(s.labels));
  const rhsSigs = rhs.map((s) => signature(s.labels));
  const out = new StepOutput(grid.steps);
  const emit = (series: readonly StepSeries[], indexes: readonly number[], step: number): void => {
    for (const i of indexes) out.add(series[i]!.labels, step, series[i]!.values[step]!);
  };
  for (let step = 0; step < grid.steps; step++) {
    const l = presentAt(lhs, step);
    const r = presentAt(rhs, step);
    switch (op) {
      case 'and': {
        if (l.length === 0 || r.length === 0) break;
        const right = new Set(r.map((i) => rhsSigs[i]!));
        emit(lhs, l.filter((i) => right.has(lhsSigs[i]!)), step);
        break;
      }
      case 'or': {
        emit(lhs, l, step);
        const left = new Set(l.map((i) => lhsSigs[i]!));
        emit(rhs, r.filter((i) => !left.has(rhsSigs[i]!)), step);
        break;
      }
      case 'unless': {
        const right = new Set(r.map((i) => rhsSigs[i]!));
        emit(lhs, l.filter((i) => !right.has(lhsSigs[i]!)), step);
        break;
      }
    }
  }
  return out.series();
}

/**
 * Arithmetic and comparison between two vectors with one-to-one, many-to-one (group_left) or
 * one-to-many (group_right) matching, with Prometheus's errors for ambiguous matches.
 */
export function vectorVector(
  op: BinaryOp,
  matching: VectorMatching,
  returnBool: boolean,
  lhsInput: readonly StepSeries[],
  rhsInput: readonly StepSeries[],
  grid: StepGrid,
): StepSeries[] {
  if (matching.card === 'many-to-many') throw executionError('many-to-many only allowed for set operators');
  const swapped = matching.card === 'one-to-many';
  // After the swap, "lhs" is the many side (or either side for one-to-one) and "rhs" the one side.
  const lhs = swapped ? rhsInput : lhsInput;
  const rhs = swapped ? lhsInput : rhsInput;
  // Signatures become small integers once, so each step works on typed arrays.
  const sigIds = new Map<string, number>();
  const signature = signatureOf(matching);
  const sigId = (s: StepSeries): number => {
    const sig = signature(s.labels);
    let id = sigIds.get(sig);
    if (id === undefined) sigIds.set(sig, (id = sigIds.size));
    return id;
  };
  const lhsSigs = Int32Array.from(lhs, sigId);
  const rhsSigs = Int32Array.from(rhs, sigId);
  const rightBySig = new Int32Array(sigIds.size);
  const rightStamp = new Int32Array(sigIds.size);
  const matchedStamp = new Int32Array(sigIds.size);
  // Result label sets, computed once per matched pair and numbered, so the per-step uniqueness
  // check of group_left/group_right is an array lookup.
  const resultIds = new Map<string, number>();
  const resultLabelsById: Labels[] = [];
  const resultIdByPair = new Map<number, number>();
  const resultId = (li: number, ri: number): number => {
    const pair = li * rhs.length + ri;
    let id = resultIdByPair.get(pair);
    if (id === undefined) {
      let labels = resultMetric(lhs[li]!.labels, rhs[ri]!.labels, op, matching);
      if (returnBool) labels = dropMetricName(labels);
      const key = labelsKey(labels);
      id = resultIds.get(key);
      if (id === undefined) {
        resultIds.set(key, (id = resultLabelsById.length));
        resultLabelsById.push(labels);
      }
      resultIdByPair.set(pair, id);
    }
    return id;
  };
  const resultStamp: number[] = [];
  const resultSig: number[] = [];
  const comparison = isComparison(op);
  const out = new StepOutput(grid.steps);
  for (let step = 0; step < grid.steps; step++) {
    const stamp = step + 1;
    const l = presentAt(lhs, step);
    const r = presentAt(rhs, step);
    if (l.length === 0 || r.length === 0) continue;
    for (const ri of r) {
      const sig = rhsSigs[ri]!;
      if (rightStamp[sig] === stamp) {
        const dup = rightBySig[sig]!;
        const group = labelsString(matchGroupLabels(rhs[ri]!.labels, matching));
        throw executionError(
          `found duplicate series for the match group ${group} on the ${swapped ? 'left' : 'right'} ` +
            `hand-side of the operation: [${labelsString(rhs[ri]!.labels)}, ${labelsString(rhs[dup]!.labels)}]` +
            ';many-to-many matching not allowed: matching labels must be unique on one side',
        );
      }
      rightStamp[sig] = stamp;
      rightBySig[sig] = ri;
    }
    for (const li of l) {
      const sig = lhsSigs[li]!;
      if (rightStamp[sig] !== stamp) continue;
      const ri = rightBySig[sig]!;
      // Back in written order: the operator sees the original left and right operands.
      const vl = swapped ? rhs[ri]!.values[step]! : lhs[li]!.values[step]!;
      const vr = swapped ? lhs[li]!.values[step]! : rhs[ri]!.values[step]!;
      let value: number;
      if (!comparison) value = arithmetic(op, vl, vr);
      else {
        const keep = compare(op, vl, vr);
        if (returnBool) value = keep ? 1 : 0;
        else if (keep) value = vl;
        else continue;
      }
      const id = resultId(li, ri);
      if (matching.card === 'one-to-one') {
        if (matchedStamp[sig] === stamp) {
          throw executionError(
            'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
          );
        }
        matchedStamp[sig] = stamp;
      } else {
        if (resultStamp[id] === stamp && resultSig[id] === sig) {
          throw executionError('multiple matches for labels: grouping labels must ensure unique matches');
        }
        resultStamp[id] = stamp;
        resultSig[id] = sig;
      }
      out.add(resultLabelsById[id]!, step, value);
    }
  }
  return out.series();
}

function resultMetric(lhs: Labels, rhs: Labels, op: BinaryOp, matching: VectorMatching): Labels {
  let labels = DROPS_NAME.has(op) ? dropMetricName(lhs) : lhs;
  if (matching.card === 'one-to-one') {
    labels = matching.on ? keepLabels(labels, matching.labels) : removeLabels(labels, matching.labels);
  }
  for (const name of matching.include) labels = withLabel(labels, name, getLabel(rhs, name) ?? '');
  return labels;
}

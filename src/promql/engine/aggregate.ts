import type { Labels } from '../../model/labels.js';
import { METRIC_NAME, isValidLabelName } from '../../model/labels.js';
import type { AggregateOp } from '../parser/ast.js';
import { executionError } from './errors.js';
import { convertibleToInt64, formatFloatPlain, quantileOf } from './numeric.js';
import type { StepGrid, StepSeries } from './values.js';
import { StepOutput, keepLabels, labelsKey, newStepSeries, removeLabels, subsetKey, withLabel } from './values.js';

export interface AggregationSpec {
  readonly op: AggregateOp;
  readonly grouping: readonly string[];
  readonly without: boolean;
  /** Per-step values of the topk/bottomk/quantile parameter. */
  readonly scalarParam: Float64Array | null;
  /** The count_values label name. */
  readonly stringParam: string | null;
}

interface Group {
  labels: Labels;
  count: number;
}

function groupLabels(labels: Labels, grouping: readonly string[], without: boolean): Labels {
  if (without) return removeLabels(labels, [...grouping, METRIC_NAME]);
  if (grouping.length === 0) return [];
  return keepLabels(labels, grouping);
}

/**
 * The group of every input series, found once per evaluation: ids in first-seen order, and the
 * labels of each group (made only for the first series of a group).
 */
function groupSeries(
  input: readonly StepSeries[],
  grouping: readonly string[],
  without: boolean,
): { seriesGroup: Int32Array; groupLabels: Labels[] } {
  const names = without ? [...grouping, METRIC_NAME] : grouping;
  const ids = new Map<string, number>();
  const labelsById: Labels[] = [];
  const seriesGroup = new Int32Array(input.length);
  for (let si = 0; si < input.length; si++) {
    const labels = input[si]!.labels;
    const key = subsetKey(labels, names, !without);
    let id = ids.get(key);
    if (id === undefined) {
      ids.set(key, (id = labelsById.length));
      labelsById.push(groupLabels(labels, grouping, without));
    }
    seriesGroup[si] = id;
  }
  return { seriesGroup, groupLabels: labelsById };
}

/** Go's container/heap over indexes with a "less" order: the least element sits on top. */
class IndexHeap {
  readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}

  push(x: number): void {
    this.items.push(x);
    let j = this.items.length - 1;
    while (j > 0) {
      const i = Math.floor((j - 1) / 2);
      if (i === j || !this.less(this.items[j]!, this.items[i]!)) break;
      this.swap(i, j);
      j = i;
    }
  }

  pop(): number {
    const n = this.items.length - 1;
    this.swap(0, n);
    this.down(0, n);
    return this.items.pop()!;
  }

  private down(i0: number, n: number): void {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(this.items[j2]!, this.items[j1]!)) j = j2;
      if (!this.less(this.items[j]!, this.items[i]!)) break;
      this.swap(i, j);
      i = j;
    }
  }

  private swap(i: number, j: number): void {
    const t = this.items[i]!;
    this.items[i] = this.items[j]!;
    this.items[j] = t;
  }
}

/**
 * Evaluates an aggregation at every step. Groups come out in first-seen order; sum is a plain
 * running sum, avg an incremental mean, stddev/stdvar Welford (population), as in Prometheus
 * 2.42. topk/bottomk keep the full input labels and select through a heap, as Prometheus does,
 * so that ties resolve the same way. count_values groups by the value as a label.
 */
export function aggregate(spec: AggregationSpec, input: readonly StepSeries[], grid: StepGrid): StepSeries[] {
  if (SIMPLE_OPS.has(spec.op)) return aggregateSimple(spec, input, grid);
  const { op, without } = spec;
  let grouping = spec.grouping;
  const valueLabel = spec.stringParam ?? '';
  if (op === 'count_values') {
    if (!isValidLabelName(valueLabel)) throw executionError(`invalid label name ${JSON.stringify(valueLabel)}`);
    if (!without) grouping = [...grouping, valueLabel];
  }
  // The group of each input series, found once (count_values regroups per value).
  const grouped = op === 'count_values' ? null : groupSeries(input, grouping, without);

  const out = new StepOutput(grid.steps);
  for (let step = 0; step < grid.steps; step++) {
    let k = 0;
    if (op === 'topk' || op === 'bottomk') {
      const f = spec.scalarParam![step]!;
      if (!convertibleToInt64(f)) throw executionError(`Scalar value ${formatFloatPlain(f)} overflows int64`);
      k = Math.trunc(f);
      if (k < 1) continue;
    }
    const groups = new Map<string | number, Group>();
    const order: Group[] = [];
    const heaps = new Map<Group, IndexHeap>();
    for (let si = 0; si < input.length; si++) {
      const s = input[si]!;
      if (s.present[step] !== 1) continue;
      const v = s.values[step]!;
      let key: string | number;
      let labelsForGroup: Labels;
      if (grouped === null) {
        const relabeled = withLabel(s.labels, valueLabel, formatFloatPlain(v));
        labelsForGroup = groupLabels(relabeled, grouping, without);
        key = labelsKey(labelsForGroup);
      } else {
        key = grouped.seriesGroup[si]!;
        labelsForGroup = grouped.groupLabels[key]!;
      }
      let g = groups.get(key);
      if (g === undefined) {
        g = { labels: labelsForGroup, count: 1 };
        groups.set(key, g);
        order.push(g);
        if (op === 'topk' || op === 'bottomk') {
          const heap = new IndexHeap(heapLess(op, input, step));
          heap.push(si);
          heaps.set(g, heap);
        }
        continue;
      }
      switch (op) {
        case 'count_values':
          g.count++;
          break;
        case 'topk':
        case 'bottomk': {
          const heap = heaps.get(g)!;
          const top = heap.items[0]!;
          const topValue = input[top]!.values[step]!;
          const replaces = op === 'topk' ? topValue < v : topValue > v;
          if (heap.items.length < k || replaces || Number.isNaN(topValue)) {
            if (heap.items.length === k) {
              if (k === 1) {
                heap.items[0] = si;
                break;
              }
              heap.pop();
            }
            heap.push(si);
          }
          break;
        }
      }
    }
    for (const g of order) {
      switch (op) {
        case 'count_values':
          out.add(g.labels, step, g.count);
          break;
        case 'topk':
        case 'bottomk': {
          const heap = heaps.get(g)!;
          const less = heapLess(op, input, step);
          // Sorting the heap in reverse of its order gives best first, NaN last.
          const ranked = [...heap.items].sort((a, b) => (less(b, a) ? -1 : less(a, b) ? 1 : 0));
          for (const si of ranked) out.add(input[si]!.labels, step, input[si]!.values[step]!);
          break;
        }
        default:
      }
    }
  }
  return out.series();
}

/** The heap order of topk (least value on top) and bottomk (greatest on top); NaN always on top. */
function heapLess(op: 'topk' | 'bottomk', input: readonly StepSeries[], step: number) {
  return (a: number, b: number): boolean => {
    const x = input[a]!.values[step]!;
    const y = input[b]!.values[step]!;
    if (Number.isNaN(x)) return true;
    return op === 'topk' ? x < y : x > y;
  };
}

const SIMPLE_OPS: ReadonlySet<AggregateOp> = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'quantile',
]);

/**
 * The aggregations whose state is a few numbers (or, for quantile, the values) per group:
 * groups get integer ids once, and every step works on typed arrays (same arithmetic, same
 * first-seen output order).
 */
function aggregateSimple(spec: AggregationSpec, input: readonly StepSeries[], grid: StepGrid): StepSeries[] {
  const { op } = spec;
  const { seriesGroup, groupLabels: groupLabelsById } = groupSeries(input, spec.grouping, spec.without);
  const n = groupLabelsById.length;
  const value = new Float64Array(n);
  const mean = new Float64Array(n);
  const count = new Float64Array(n);
  const stamp = new Int32Array(n);
  const order = new Int32Array(n);
  const members: number[][] = op === 'quantile' ? Array.from({ length: n }, () => []) : [];
  // Groups have distinct labels, so each gets one output series, made at its first value.
  const outputOf = new Array<StepSeries | undefined>(n);
  const out: StepSeries[] = [];
  for (let step = 0; step < grid.steps; step++) {
    let groupsSeen = 0;
    for (let si = 0; si < input.length; si++) {
      const s = input[si]!;
      if (s.present[step] !== 1) continue;
      const v = s.values[step]!;
      const g = seriesGroup[si]!;
      if (stamp[g] !== step + 1) {
        stamp[g] = step + 1;
        order[groupsSeen++] = g;
        value[g] = op === 'stddev' || op === 'stdvar' ? 0 : op === 'group' ? 1 : v;
        mean[g] = v;
        count[g] = 1;
        if (op === 'quantile') {
          members[g]!.length = 0;
          members[g]!.push(v);
        }
        continue;
      }
      switch (op) {
        case 'sum':
          value[g] += v;
          break;
        case 'avg': {
          const c = ++count[g]!;
          const m = mean[g]!;
          if (m === Infinity || m === -Infinity) {
            // An infinite mean stays unless a NaN or an opposite infinity arrives.
            if ((v === Infinity || v === -Infinity) && m > 0 === v > 0) break;
            if (v !== Infinity && v !== -Infinity && !Number.isNaN(v)) break;
          }
          mean[g] = m + (v / c - m / c);
          break;
        }
        case 'max':
          if (value[g]! < v || Number.isNaN(value[g]!)) value[g] = v;
          break;
        case 'min':
          if (value[g]! > v || Number.isNaN(value[g]!)) value[g] = v;
          break;
        case 'count':
          count[g]!++;
          break;
        case 'stddev':
        case 'stdvar': {
          const c = ++count[g]!;
          const delta = v - mean[g]!;
          mean[g]! += delta / c;
          value[g]! += delta * (v - mean[g]!);
          break;
        }
        case 'quantile':
          members[g]!.push(v);
          break;
        default:
      }
    }
    for (let k = 0; k < groupsSeen; k++) {
      const g = order[k]!;
      let result: number;
      if (op === 'quantile') result = quantileOf(spec.scalarParam![step]!, members[g]!);
      else if (op === 'avg') result = mean[g]!;
      else if (op === 'count') result = count[g]!;
      else if (op === 'stdvar') result = value[g]! / count[g]!;
      else if (op === 'stddev') result = Math.sqrt(value[g]! / count[g]!);
      else result = value[g]!;
      let series = outputOf[g];
      if (series === undefined) {
        series = outputOf[g] = newStepSeries(groupLabelsById[g]!, grid.steps);
        out.push(series);
      }
      series.values[step] = result;
      series.present[step] = 1;
    }
  }
  return out;
}

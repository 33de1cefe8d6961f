import type { Label, Labels } from '../../model/labels.js';
import { METRIC_NAME } from '../../model/labels.js';
import { duplicateLabelsetError } from './errors.js';

/** The evaluation time steps of one (sub)query: startMs, startMs + intervalMs, ... <= endMs. */
export interface StepGrid {
  readonly startMs: number;
  readonly endMs: number;
  readonly intervalMs: number;
  readonly steps: number;
}

export function makeGrid(startMs: number, endMs: number, intervalMs: number): StepGrid {
  const steps = endMs < startMs ? 0 : Math.floor((endMs - startMs) / intervalMs) + 1;
  return { startMs, endMs, intervalMs, steps };
}

export function stepTime(grid: StepGrid, step: number): number {
  return grid.startMs + step * grid.intervalMs;
}

/**
 * One series of an instant-vector result over every step of a grid: `present[i]` says whether
 * the series has a value at step i, `values[i]` holds it.
 */
export interface StepSeries {
  readonly labels: Labels;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/** Raw samples of one series, sorted by time (a range selector or subquery result). */
export interface SampleSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export type EvalValue =
  | { readonly type: 'scalar'; readonly values: Float64Array }
  | { readonly type: 'vector'; readonly series: StepSeries[] }
  | { readonly type: 'matrix'; readonly series: SampleSeries[] }
  | { readonly type: 'string'; readonly value: string };

export function newStepSeries(labels: Labels, steps: number): StepSeries {
  return { labels, values: new Float64Array(steps), present: new Uint8Array(steps) };
}

/** Float64 slots per block of StepSeriesMaker: 64 KiB. */
const BLOCK_SLOTS = 8192;

/**
 * Makes the StepSeries of one node's output with their arrays cut from shared blocks: one pair
 * of allocations per many series instead of one pair per series. Blocks are never larger than
 * what the remaining series (at most maxSeries in all) can use.
 */
export class StepSeriesMaker {
  private values = new Float64Array(0);
  private present = new Uint8Array(0);
  private used = 0;
  private made = 0;

  constructor(
    private readonly steps: number,
    private readonly maxSeries: number,
  ) {}

  make(labels: Labels): StepSeries {
    const steps = this.steps;
    this.made++;
    if (this.used + steps > this.present.length) {
      const perBlock = Math.max(1, Math.floor(BLOCK_SLOTS / steps));
      const slots = Math.max(1, Math.min(perBlock, this.maxSeries - this.made + 1)) * steps;
      this.values = new Float64Array(slots);
      this.present = new Uint8Array(slots);
      this.used = 0;
    }
    const from = this.used;
    this.used += steps;
    return {
      labels,
      values: this.values.subarray(from, this.used),
      present: this.present.subarray(from, this.used),
    };
  }
}

export function countPresent(s: StepSeries): number {
  let n = 0;
  for (let i = 0; i < s.present.length; i++) n += s.present[i]!;
  return n;
}

const keyCache = new WeakMap<Labels, string>();

/** A string that identifies a label set (labels are sorted, so equal sets give equal keys). */
export function labelsKey(labels: Labels): string {
  let key = keyCache.get(labels);
  if (key === undefined) {
    key = '';
    for (const l of labels) key += `${l.name}\u0000${l.value}\u0001`;
    keyCache.set(labels, key);
  }
  return key;
}

/**
 * labelsKey of the labels whose name is in `names` (keep) or not in it (!keep), built without
 * making that label set: for grouping and matching keys of many series.
 */
export function subsetKey(labels: Labels, names: readonly string[], keep: boolean): string {
  let key = '';
  for (const l of labels) {
    if (names.includes(l.name) === keep) key += `${l.name}\u0000${l.value}\u0001`;
  }
  return key;
}

export function dropMetricName(labels: Labels): Labels {
  if (!labels.some((l) => l.name === METRIC_NAME)) return labels;
  return labels.filter((l) => l.name !== METRIC_NAME);
}

/** Returns labels with `name` set to `value` (removed when value is empty), still sorted. */
export function withLabel(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let placed = false;
  for (const l of labels) {
    if (!placed && l.name >= name) {
      if (value !== '') out.push({ name, value });
      placed = true;
      if (l.name === name) continue;
    }
    out.push(l);
  }
  if (!placed && value !== '') out.push({ name, value });
  return out;
}

export function keepLabels(labels: Labels, names: readonly string[]): Labels {
  return labels.filter((l) => names.includes(l.name));
}

export function removeLabels(labels: Labels, names: readonly string[]): Labels {
  return labels.filter((l) => !names.includes(l.name));
}

/** Prometheus's labels.String(): `{a="b", c="d"}` with every label, the name included. */
export function labelsString(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/**
 * Collects the output of a per-step operation into series keyed by label set, in first-seen
 * order. Two outputs with the same labels at one step are an error, as in Prometheus.
 */
export class StepOutput {
  private readonly byKey = new Map<string, StepSeries>();
  /** The same series by label-array identity: most callers reuse one array per output series. */
  private readonly byObject = new Map<Labels, StepSeries>();

  constructor(private readonly steps: number) {}

  add(labels: Labels, step: number, value: number): void {
    let s = this.byObject.get(labels);
    if (s === undefined) {
      const key = labelsKey(labels);
      s = this.byKey.get(key);
      if (s === undefined) {
        s = newStepSeries(labels, this.steps);
        this.byKey.set(key, s);
      }
      this.byObject.set(labels, s);
    }
    if (s.present[step] === 1) {
      throw duplicateLabelsetError();
    }
    s.values[step] = value;
    s.present[step] = 1;
  }

  series(): StepSeries[] {
    return [...this.byKey.values()];
  }
}

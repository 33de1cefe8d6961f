import type { Labels } from '../../src/model/labels.js';
import { sortLabels } from '../../src/model/labels.js';
import type { SeriesAppend } from '../../src/storage/types.js';

/** A sorted label set from an object: {__name__: 'up', job: 'a'}. */
export function lbls(o: Record<string, string>): Labels {
  return sortLabels(Object.entries(o).map(([name, value]) => ({ name, value })));
}

export function series(labels: Record<string, string>, samples: readonly (readonly [number, number])[]): SeriesAppend {
  return {
    labels: lbls(labels),
    timestamps: Float64Array.from(samples.map((s) => s[0])),
    values: Float64Array.from(samples.map((s) => s[1])),
  };
}

/** [t, v] pairs of a read series, for deep equality. */
export function pairs(d: { timestamps: Float64Array; values: Float64Array }): [number, number][] {
  return Array.from(d.timestamps, (t, i) => [t, d.values[i]!]);
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public currentMs: number) {}
  nowMs(): number {
    return this.currentMs;
  }
}

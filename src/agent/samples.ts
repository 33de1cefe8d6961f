import type { Label } from '../model/labels.js';

/** Samples of one scrape on their way to the remote writers; values keep their NaN bits. */
export interface SampleBatch {
  /** Sorted label sets; series[i] goes with timestampsMs[i] and values[i]. */
  readonly series: readonly (readonly Label[])[];
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
}

export interface SampleSink {
  append(batch: SampleBatch): void;
}

/** Collects samples into a batch; values are written through a Float64Array so NaN payloads survive. */
export class BatchBuilder {
  private readonly series: (readonly Label[])[] = [];
  private timestamps: Float64Array = new Float64Array(64);
  private values: Float64Array = new Float64Array(64);

  get length(): number {
    return this.series.length;
  }

  /** Appends values[i] of `from` (copied by element, which keeps its bits inside typed arrays). */
  add(labels: readonly Label[], timestampMs: number, from: Float64Array, i: number): void {
    const n = this.series.length;
    if (n === this.values.length) {
      this.timestamps = grow(this.timestamps);
      this.values = grow(this.values);
    }
    this.series.push(labels);
    this.timestamps[n] = timestampMs;
    this.values.set(from.subarray(i, i + 1), n);
  }

  build(): SampleBatch {
    const n = this.series.length;
    return { series: this.series, timestampsMs: this.timestamps.slice(0, n), values: this.values.slice(0, n) };
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

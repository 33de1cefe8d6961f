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
  private words: Uint32Array = new Uint32Array(this.values.buffer);
  /** The last array values came from, and a word view of it. */
  private source: Float64Array | undefined;
  private sourceWords: Uint32Array = new Uint32Array(0);

  get length(): number {
    return this.series.length;
  }

  /** Appends values[i] of `from`, bit for bit. */
  add(labels: readonly Label[], timestampMs: number, from: Float64Array, i: number): void {
    const n = this.series.length;
    if (n === this.values.length) {
      this.timestamps = grow(this.timestamps);
      this.values = grow(this.values);
      this.words = new Uint32Array(this.values.buffer);
    }
    this.series.push(labels);
    this.timestamps[n] = timestampMs;
    // Copied as two 32-bit words: a value read as a number might lose its NaN payload.
    if (from !== this.source) {
      this.source = from;
      this.sourceWords = new Uint32Array(from.buffer, from.byteOffset, from.length * 2);
    }
    this.words[2 * n] = this.sourceWords[2 * i]!;
    this.words[2 * n + 1] = this.sourceWords[2 * i + 1]!;
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

/** A string equal exactly for equal sorted label sets (cheaper than formatLabels). */
export function labelsKey(labels: readonly Label[]): string {
  let key = '';
  for (const l of labels) key += `${l.name}\u0000${l.value}\u0000`;
  return key;
}

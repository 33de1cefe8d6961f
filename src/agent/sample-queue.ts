/**
 * A first-in-first-out buffer of samples for one shard: label sets plus timestamp and value
 * columns. Values move only between Float64Arrays, so their bits (staleness markers) survive.
 */
import type { Label } from '../model/labels.js';
import type { EncodableSeries } from './write-request.js';

export class SampleQueue {
  private keys: string[] = [];
  private labels: (readonly Label[])[] = [];
  private timestamps: Float64Array = new Float64Array(256);
  private values: Float64Array = new Float64Array(256);
  private head = 0;
  private tail = 0;
  /** When the oldest waiting sample was queued. */
  oldestQueuedMs = 0;
  /** An estimate of the memory held, for the queue_bytes gauge. */
  bytes = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(key: string, labels: readonly Label[], timestampMs: number, values: Float64Array, i: number, nowMs: number): void {
    if (this.length === 0) this.oldestQueuedMs = nowMs;
    if (this.tail === this.values.length) this.makeRoom();
    this.keys.push(key);
    this.labels.push(labels);
    this.timestamps[this.tail] = timestampMs;
    this.values.set(values.subarray(i, i + 1), this.tail);
    this.tail++;
    this.bytes += sampleBytes(key);
  }

  /** Removes up to max samples from the front, grouped by series in arrival order. */
  take(max: number, nowMs: number): { series: EncodableSeries[]; count: number; bytes: number } {
    const end = Math.min(this.tail, this.head + max);
    const { series, bytes } = this.group(this.head, end);
    const count = end - this.head;
    this.keys.splice(0, count);
    this.labels.splice(0, count);
    this.head = end;
    this.bytes -= bytes;
    if (this.length === 0) {
      this.head = 0;
      this.tail = 0;
      this.bytes = 0;
    } else {
      this.oldestQueuedMs = nowMs;
    }
    return { series, count, bytes };
  }

  /** Everything waiting, grouped by series, left in place (for checkpoints). */
  peekAll(): EncodableSeries[] {
    return this.group(this.head, this.tail).series;
  }

  private group(start: number, end: number): { series: EncodableSeries[]; bytes: number } {
    const groups = new Map<string, { labels: readonly Label[]; at: number[] }>();
    let bytes = 0;
    for (let i = start; i < end; i++) {
      const key = this.keys[i - this.head]!;
      bytes += sampleBytes(key);
      let g = groups.get(key);
      if (g === undefined) {
        g = { labels: this.labels[i - this.head]!, at: [] };
        groups.set(key, g);
      }
      g.at.push(i);
    }
    const series: EncodableSeries[] = [];
    for (const g of groups.values()) {
      const timestampsMs = new Float64Array(g.at.length);
      const values = new Float64Array(g.at.length);
      g.at.forEach((at, k) => {
        timestampsMs[k] = this.timestamps[at]!;
        values.set(this.values.subarray(at, at + 1), k);
      });
      series.push({ labels: g.labels, timestampsMs, values });
    }
    return { series, bytes };
  }

  private makeRoom(): void {
    const n = this.length;
    const size = n * 2 > this.values.length ? this.values.length * 2 : this.values.length;
    const timestamps = new Float64Array(size);
    const values = new Float64Array(size);
    timestamps.set(this.timestamps.subarray(this.head, this.tail));
    values.set(this.values.subarray(this.head, this.tail));
    this.timestamps = timestamps;
    this.values = values;
    this.head = 0;
    this.tail = n;
  }
}

/** Per-sample estimate: two float64s, a share of the label set, and array slots. */
function sampleBytes(key: string): number {
  return 16 + 16 + key.length * 2;
}

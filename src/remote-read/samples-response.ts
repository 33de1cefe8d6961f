/**
 * A hand-written encoder of prometheus.ReadResponse. Values are copied from the Float64Array as
 * their 8 raw bytes, so NaN payloads (the staleness marker) reach the reader unchanged, which a
 * generated encoder taking a JS number cannot promise. Sizes are computed first, then everything
 * is written into one buffer.
 */
import type { SeriesData } from '../storage/types.js';

const encoder = new TextEncoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const TAG_RESULT = 0x0a; // ReadResponse.results = 1, length-delimited
const TAG_TIMESERIES = 0x0a; // QueryResult.timeseries = 1
const TAG_LABEL = 0x0a; // TimeSeries.labels = 1
const TAG_SAMPLE = 0x12; // TimeSeries.samples = 2
const TAG_NAME = 0x0a; // Label.name = 1
const TAG_VALUE = 0x12; // Label.value = 2
const TAG_SAMPLE_VALUE = 0x09; // Sample.value = 1, fixed64
const TAG_SAMPLE_TIME = 0x10; // Sample.timestamp = 2, varint

function varintSize(v: number): number {
  let n = 1;
  for (let x = v; x >= 0x80; x = Math.floor(x / 0x80)) n++;
  return n;
}

/** int64 varint size: negatives take ten bytes (two's complement). */
function int64Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

function lenFieldSize(contentBytes: number): number {
  return 1 + varintSize(contentBytes) + contentBytes;
}

function sampleSize(t: number): number {
  return 9 + (t === 0 ? 0 : 1 + int64Size(t));
}

interface EncodedLabel {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
  readonly sizeBytes: number;
}

interface SeriesPlan {
  readonly series: SeriesData;
  readonly labels: EncodedLabel[];
  readonly sizeBytes: number;
}

function planSeries(s: SeriesData): SeriesPlan {
  let size = 0;
  const labels = s.labels.map((l) => {
    const name = encoder.encode(l.name);
    const value = encoder.encode(l.value);
    const sizeBytes = (name.length > 0 ? lenFieldSize(name.length) : 0) + (value.length > 0 ? lenFieldSize(value.length) : 0);
    size += lenFieldSize(sizeBytes);
    return { name, value, sizeBytes };
  });
  for (let i = 0; i < s.timestamps.length; i++) size += lenFieldSize(sampleSize(s.timestamps[i]!));
  return { series: s, labels, sizeBytes: size };
}

class Writer {
  at = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(b: number): void {
    this.buf[this.at++] = b;
  }

  varint(v: number): void {
    let x = v;
    while (x >= 0x80) {
      this.buf[this.at++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.at++] = x;
  }

  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      this.buf[this.at++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.at++] = Number(x);
  }

  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.byte(field);
    this.varint(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

/** prometheus.ReadResponse with one QueryResult per query, in order. */
export function encodeReadResponse(results: readonly (readonly SeriesData[])[]): Uint8Array {
  const plans = results.map((series) => series.map(planSeries));
  const resultSizes = plans.map((p) => p.reduce((n, s) => n + lenFieldSize(s.sizeBytes), 0));
  const total = resultSizes.reduce((n, r) => n + lenFieldSize(r), 0);
  const w = new Writer(new Uint8Array(total));
  plans.forEach((seriesPlans, r) => {
    w.byte(TAG_RESULT);
    w.varint(resultSizes[r]!);
    for (const plan of seriesPlans) {
      w.byte(TAG_TIMESERIES);
      w.varint(plan.sizeBytes);
      for (const l of plan.labels) {
        w.byte(TAG_LABEL);
        w.varint(l.sizeBytes);
        w.bytes(TAG_NAME, l.name);
        w.bytes(TAG_VALUE, l.value);
      }
      const { timestamps, values } = plan.series;
      const valueBytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      for (let i = 0; i < timestamps.length; i++) {
        const t = timestamps[i]!;
        w.byte(TAG_SAMPLE);
        w.varint(sampleSize(t));
        w.byte(TAG_SAMPLE_VALUE);
        for (let k = 0; k < 8; k++) w.byte(valueBytes[i * 8 + (LITTLE_ENDIAN ? k : 7 - k)]!);
        if (t !== 0) {
          w.byte(TAG_SAMPLE_TIME);
          w.int64(t);
        }
      }
    }
  });
  return w.buf;
}

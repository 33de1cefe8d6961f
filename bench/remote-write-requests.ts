/**
 * Pre-encoded remote write 1.0 requests of the node_exporter-like data set, the way Prometheus
 * sends them: one sample per TimeSeries entry, about 2,000 samples per request, the series split
 * into one shard per connection so that each series arrives in time order. Shared by the ingest
 * benchmarks; encoding is never part of what they time.
 */
import { compressSync } from 'snappy';
import { DEFAULT_INTERVAL_MS, generateSeriesSlices, type NodeExporterOptions } from './data/node-exporter.js';
import type { Labels } from '../src/model/labels.js';

export const SAMPLES_PER_REQUEST = 2000;
const SCRAPES_PER_SLICE = 40;

/** The snappy-compressed request bodies one connection sends, in order. */
export interface Workload {
  readonly bodies: Buffer[];
  readonly samples: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const encoder = new TextEncoder();

function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Appends protobuf wire bytes to a growing buffer. */
class WireWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  varint(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  double(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  const w = new WireWriter();
  w.varint(tag(field, WIRE_BYTES));
  w.varint(payload.length);
  w.bytes(payload);
  return Uint8Array.from(w.view());
}

/** The `labels` fields of a TimeSeries (field 1, one Label message each), encoded once per series. */
export function encodeLabelFields(labels: Labels): Uint8Array {
  const w = new WireWriter();
  for (const l of labels) {
    const label = new WireWriter();
    const name = encoder.encode(l.name);
    const value = encoder.encode(l.value);
    label.varint(tag(1, WIRE_BYTES));
    label.varint(name.length);
    label.bytes(name);
    label.varint(tag(2, WIRE_BYTES));
    label.varint(value.length);
    label.bytes(value);
    w.bytes(lengthDelimited(1, label.view()));
  }
  return Uint8Array.from(w.view());
}

/** One TimeSeries entry of a WriteRequest (field 1) holding one sample. */
function writeSeriesEntry(w: WireWriter, labelFields: Uint8Array, value: number, timestampMs: number): void {
  // Sample: value (1, fixed64 double) and timestamp (2, varint; benchmark timestamps are positive).
  const sampleLength = 1 + 8 + 1 + varintLength(timestampMs);
  w.varint(tag(1, WIRE_BYTES));
  w.varint(labelFields.length + 1 + varintLength(sampleLength) + sampleLength);
  w.bytes(labelFields);
  w.varint(tag(2, WIRE_BYTES));
  w.varint(sampleLength);
  w.varint(tag(1, WIRE_FIXED64));
  w.double(value);
  w.varint(tag(2, WIRE_VARINT));
  w.varint(timestampMs);
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

/**
 * Requests sharded over `shards` connections: series k goes to shard k mod shards, a shard's
 * request is sent once it holds SAMPLES_PER_REQUEST samples, and shards fill in scrape order, so
 * each series is in time order within its shard.
 */
export function buildRequests(opts: NodeExporterOptions, shards: number): Workload[] {
  const writers = Array.from({ length: shards }, () => new WireWriter());
  const pending = new Array<number>(shards).fill(0);
  const out: { bodies: Buffer[]; samples: number }[] = Array.from({ length: shards }, () => ({ bodies: [], samples: 0 }));
  let labelFields: Uint8Array[] | undefined;
  const flush = (k: number): void => {
    if (pending[k] === 0) return;
    out[k]!.bodies.push(compressSync(writers[k]!.view()));
    out[k]!.samples += pending[k]!;
    pending[k] = 0;
    writers[k]!.reset();
  };
  // Generated in slices of several scrapes (fewer small arrays to collect), sent scrape by scrape.
  for (const slice of generateSeriesSlices(opts, SCRAPES_PER_SLICE * (opts.intervalMs ?? DEFAULT_INTERVAL_MS))) {
    labelFields ??= slice.map((s) => encodeLabelFields(s.labels));
    const scrapes = slice[0]?.timestamps.length ?? 0;
    for (let i = 0; i < scrapes; i++) {
      for (let s = 0; s < slice.length; s++) {
        const series = slice[s]!;
        const k = s % shards;
        writeSeriesEntry(writers[k]!, labelFields[s]!, series.values[i]!, series.timestamps[i]!);
        if (++pending[k]! === SAMPLES_PER_REQUEST) flush(k);
      }
    }
  }
  for (let k = 0; k < shards; k++) flush(k);
  return out;
}

/**
 * The same requests over fewer connections: connection j takes the shards k with k mod
 * connections = j, their requests interleaved round-robin, so every series stays on one connection
 * in time order and the connections still advance through time together.
 */
export function regroup(shards: readonly Workload[], connections: number): Workload[] {
  if (shards.length % connections !== 0) throw new Error(`${shards.length} shards do not split evenly over ${connections} connections`);
  const out: Workload[] = [];
  for (let j = 0; j < connections; j++) {
    const mine = shards.filter((_, k) => k % connections === j);
    const bodies: Buffer[] = [];
    const longest = Math.max(...mine.map((w) => w.bodies.length));
    for (let i = 0; i < longest; i++) for (const w of mine) if (i < w.bodies.length) bodies.push(w.bodies[i]!);
    out.push({ bodies, samples: mine.reduce((n, w) => n + w.samples, 0) });
  }
  return out;
}

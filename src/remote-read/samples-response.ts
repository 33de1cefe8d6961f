/**
 * A hand-written encoder of prometheus.ReadResponse. Values are copied from the Float64Array as
 * their 8 raw bytes, so NaN payloads (the staleness marker) reach the reader unchanged, which a
 * generated encoder taking a JS number cannot promise.
 */
import type { SeriesData } from '../storage/types.js';

const encoder = new TextEncoder();

/** Protobuf bytes built back to front would avoid copies; a byte list of parts is simpler and fast enough. */
class ProtoWriter {
  private parts: Uint8Array[] = [];
  private scratch = new Uint8Array(10);
  sizeBytes = 0;

  varint(v: number): void {
    let n = 0;
    let x = v;
    while (x >= 0x80) {
      this.scratch[n++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.scratch[n++] = x;
    this.push(this.scratch.slice(0, n));
  }

  /** int64 as protobuf varint (two's complement for negatives). */
  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.push(bytes);
  }

  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.sizeBytes += bytes.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.sizeBytes);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function encodeTimeSeries(s: SeriesData): Uint8Array {
  const w = new ProtoWriter();
  for (const l of s.labels) {
    const label = new ProtoWriter();
    if (l.name !== '') label.bytesField(1, encoder.encode(l.name));
    if (l.value !== '') label.bytesField(2, encoder.encode(l.value));
    w.bytesField(1, label.finish());
  }
  const valueBytes = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let i = 0; i < s.timestamps.length; i++) {
    const sample = new ProtoWriter();
    sample.tag(1, 1); // double, fixed64 little-endian
    const raw = valueBytes.slice(i * 8, i * 8 + 8);
    if (!littleEndian) raw.reverse();
    sample.push(raw);
    const t = s.timestamps[i]!;
    if (t !== 0) {
      sample.tag(2, 0);
      sample.int64(t);
    }
    w.bytesField(2, sample.finish());
  }
  return w.finish();
}

/** prometheus.ReadResponse with one QueryResult per query, in order. */
export function encodeReadResponse(results: readonly (readonly SeriesData[])[]): Uint8Array {
  const w = new ProtoWriter();
  for (const series of results) {
    const result = new ProtoWriter();
    for (const s of series) result.bytesField(1, encodeTimeSeries(s));
    w.bytesField(1, result.finish());
  }
  return w.finish();
}

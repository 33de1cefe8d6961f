/**
 * Encodes samples as a remote-write 1.0 request body: a prompb WriteRequest, snappy block format.
 * Written by hand rather than through the generated message classes so that each value's eight
 * bytes are copied straight from its Float64Array, keeping the staleness marker's exact bits.
 */
import snappy from 'snappy';
import type { Label } from '../model/labels.js';

export interface EncodableSeries {
  readonly labels: readonly Label[];
  readonly timestampsMs: Float64Array;
  readonly values: Float64Array;
}

/** The uncompressed protobuf bytes of a WriteRequest holding these series. */
export function encodeWriteRequestBytes(series: readonly EncodableSeries[]): Buffer {
  const labelLengths = series.map((s) => s.labels.map((l) => [Buffer.byteLength(l.name, 'utf8'), Buffer.byteLength(l.value, 'utf8')] as const));
  const seriesSizes = series.map((s, k) => {
    let size = 0;
    for (const [nameBytes, valueBytes] of labelLengths[k]!) size += fieldSize(fieldSize(nameBytes) + fieldSize(valueBytes));
    for (let i = 0; i < s.timestampsMs.length; i++) size += fieldSize(sampleSize(s.timestampsMs[i]!));
    return size;
  });
  const total = seriesSizes.reduce((a, n) => a + fieldSize(n), 0);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  const varint = (v: number): void => {
    while (v >= 0x80) {
      out[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[pos++] = v;
  };
  const stringField = (tag: number, text: string, byteLength: number): void => {
    out[pos++] = tag;
    varint(byteLength);
    pos += out.write(text, pos, byteLength, 'utf8');
  };
  series.forEach((s, k) => {
    out[pos++] = 0x0a; // WriteRequest.timeseries = 1, length-delimited
    varint(seriesSizes[k]!);
    s.labels.forEach((l, j) => {
      const [nameBytes, valueBytes] = labelLengths[k]![j]!;
      out[pos++] = 0x0a; // TimeSeries.labels = 1
      varint(fieldSize(nameBytes) + fieldSize(valueBytes));
      stringField(0x0a, l.name, nameBytes);
      stringField(0x12, l.value, valueBytes);
    });
    // The values' own bytes are copied, never read as numbers, so NaN payloads stay as they are.
    const src = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
    for (let i = 0; i < s.timestampsMs.length; i++) {
      const ts = s.timestampsMs[i]!;
      out[pos++] = 0x12; // TimeSeries.samples = 2
      varint(sampleSize(ts));
      out[pos++] = 0x09; // Sample.value = 1, fixed64
      const at = i * 8;
      if (isLittleEndian) for (let b = 0; b < 8; b++) out[pos + b] = src[at + b]!;
      else for (let b = 0; b < 8; b++) out[pos + b] = src[at + 7 - b]!;
      pos += 8;
      out[pos++] = 0x10; // Sample.timestamp = 2, varint
      varint(ts);
    }
  });
  return out;
}

/** The snappy-compressed body for POST /api/v1/write. */
export function encodeWriteRequest(series: readonly EncodableSeries[]): Buffer {
  return snappy.compressSync(encodeWriteRequestBytes(series));
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** A length-delimited field of `length` bytes with a one-byte tag. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function sampleSize(timestampMs: number): number {
  if (timestampMs < 0 || !Number.isSafeInteger(timestampMs)) throw new RangeError(`timestamp ${timestampMs} cannot be sent`);
  return 9 + 1 + varintSize(timestampMs);
}

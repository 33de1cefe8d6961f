import type { MetricMetadata } from '../../storage/types.js';
import { hashBytes } from '../label-cache.js';
import { FRESH_BUFFERS, SamplesBuffer, type BufferSource } from '../samples-buffer.js';
import { decodeMetadata, decodeSamples, newSeriesFields, walkTimeSeries } from './decode-v1.js';
import { WIRE_LEN, WireReader, wrongWireType } from './wire.js';

/** Columns of ScannedWriteV1.series, one row per TimeSeries. */
export const SERIES_COLUMNS = 5;
export const COL_LABELS_START = 0;
export const COL_LABELS_END = 1;
/** hashBytes of the label bytes, stored as its unsigned 32 bits. */
export const COL_LABELS_HASH = 2;
export const COL_FIRST_SAMPLE = 3;
export const COL_SAMPLE_COUNT = 4;

/**
 * A remote write 1.0 request with everything but its labels decoded, in a few typed arrays that
 * can be handed to another thread without copying: per series where its label bytes are in
 * `body` (and their hash), and which samples are its. The labels are decoded (or found in a label
 * cache) by whoever holds the cache.
 */
export interface ScannedWriteV1 {
  /** The decompressed WriteRequest; label bytes are read from it. */
  readonly body: Uint8Array;
  /** SERIES_COLUMNS numbers per series. */
  readonly series: Uint32Array;
  readonly seriesCount: number;
  readonly timestamps: Float64Array;
  /** Little-endian float64 bytes, 8 per sample, as on the wire. */
  readonly valueBytes: Uint8Array;
  readonly sampleCount: number;
  readonly metadata: MetricMetadata[];
  readonly exemplarCount: number;
}

/**
 * Scans a decompressed WriteRequest. Returns undefined when it cannot be described this way
 * (a series whose label fields are interleaved with other fields, or that carries native
 * histograms) and throws bad_data for malformed bytes; in both cases decodeWriteRequestV1 on
 * the same bytes gives the answer, with the same error a request would get without scanning.
 * The typed arrays come from `buffers`; when the scan gives up or throws, they are handed back.
 */
export function scanWriteRequestV1(body: Uint8Array, buffers: BufferSource = FRESH_BUFFERS): ScannedWriteV1 | undefined {
  const out = new SamplesBuffer(Math.ceil(body.length / 16), buffers);
  const scanned = { series: new Uint32Array(buffers.take(64 * SERIES_COLUMNS * 4)) };
  let result: ScannedWriteV1 | undefined;
  try {
    result = scanInto(body, buffers, scanned, out);
  } finally {
    if (result === undefined) {
      buffers.give(scanned.series.buffer as ArrayBuffer);
      buffers.give(out.timestamps.buffer as ArrayBuffer);
      buffers.give(out.valueBytes.buffer as ArrayBuffer);
    }
  }
  return result;
}

function scanInto(body: Uint8Array, buffers: BufferSource, scanned: { series: Uint32Array }, out: SamplesBuffer): ScannedWriteV1 | undefined {
  const r = new WireReader(body);
  const fields = newSeriesFields();
  let series = scanned.series;
  let seriesCount = 0;
  const metadata: MetricMetadata[] = [];
  let exemplarCount = 0;
  while (!r.atEnd()) {
    const tag = r.tag('WriteRequest');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'WriteRequest');
      const end = r.lengthEnd('WriteRequest.timeseries');
      walkTimeSeries(r, end, fields);
      if (!fields.labelsContiguous || fields.histograms > 0) return undefined;
      const { labelFields } = fields;
      const labelsStart = labelFields.length > 0 ? labelFields.starts[0]! : 0;
      const labelsEnd = labelFields.length > 0 ? labelFields.ends[labelFields.length - 1]! : 0;
      if ((seriesCount + 1) * SERIES_COLUMNS > series.length) {
        const grown = new Uint32Array(buffers.take(series.length * 8));
        grown.set(series);
        buffers.give(series.buffer as ArrayBuffer);
        series = scanned.series = grown;
      }
      const row = seriesCount * SERIES_COLUMNS;
      series[row + COL_LABELS_START] = labelsStart;
      series[row + COL_LABELS_END] = labelsEnd;
      series[row + COL_LABELS_HASH] = hashBytes(r.buf, labelsStart, labelsEnd);
      series[row + COL_FIRST_SAMPLE] = out.length;
      series[row + COL_SAMPLE_COUNT] = fields.samples.length;
      seriesCount++;
      decodeSamples(r, fields.samples, out);
      r.pos = end;
      r.end = body.length;
      exemplarCount += fields.exemplars;
    } else if (field === 3) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'WriteRequest');
      const end = r.lengthEnd('WriteRequest.metadata');
      metadata.push(decodeMetadata(r, end));
    } else {
      r.skip(wireType, 'WriteRequest');
    }
  }
  return {
    body,
    series,
    seriesCount,
    timestamps: out.timestamps,
    valueBytes: out.valueBytes,
    sampleCount: out.length,
    metadata,
    exemplarCount,
  };
}

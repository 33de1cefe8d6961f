import { badData } from '../../errors.js';
import { formatLabelsBrief, type Label } from '../../model/labels.js';
import type { MetricMetadata } from '../../storage/types.js';
import type { LabelCache } from '../label-cache.js';
import type { DecodedWrite, RawSeries, ValidLabels } from '../types.js';
import { metricTypeFromWire } from './metric-type.js';
import { SamplesBuffer } from '../samples-buffer.js';
import { labelStrings, type StringPool } from '../string-pool.js';
import { decodeSample } from './sample.js';
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, WireReader, inSeries, wrongWireType } from './wire.js';

/**
 * Decodes a remote write 1.0 `prometheus.WriteRequest` straight into series with columnar
 * samples: no message objects, no object per sample, values copied byte for byte.
 * Native histograms are refused (bad_data); exemplars are checked and counted but not kept.
 * With a cache, label sets seen before (by their exact bytes) are taken from it undecoded.
 */
export function decodeWriteRequestV1(body: Uint8Array, cache?: LabelCache): DecodedWrite {
  const r = new WireReader(body);
  const series: RawSeries[] = [];
  const metadata: MetricMetadata[] = [];
  const fields = newSeriesFields();
  // A 1.0 sample takes at least 13 bytes on the wire when it has a value and a timestamp.
  const out = new SamplesBuffer(Math.ceil(body.length / 16));
  let exemplarCount = 0;
  while (!r.atEnd()) {
    const tag = r.tag('WriteRequest');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'WriteRequest');
      const end = r.lengthEnd('WriteRequest.timeseries');
      const ts = decodeTimeSeries(r, end, fields, cache, out);
      exemplarCount += ts.exemplars;
      series.push(ts.series);
    } else if (field === 3) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'WriteRequest');
      const end = r.lengthEnd('WriteRequest.metadata');
      metadata.push(decodeMetadata(r, end));
    } else {
      r.skip(wireType, 'WriteRequest');
    }
  }
  return { series, samples: out, metadata, exemplarCount };
}

/** A reusable growable list of (start, end) byte offsets. */
export class PositionList {
  starts = new Uint32Array(64);
  ends = new Uint32Array(64);
  length = 0;

  push(start: number, end: number): void {
    if (this.length === this.starts.length) {
      const starts = new Uint32Array(this.length * 2);
      const ends = new Uint32Array(this.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.length] = start;
    this.ends[this.length] = end;
    this.length++;
  }
}

/** What one TimeSeries message holds, found by walking its fields without decoding them. */
export interface SeriesFields {
  /** Label fields (each a whole field: tag, length, Label message), in wire order. */
  readonly labelFields: PositionList;
  /** Sample messages (their payload bytes), in wire order. */
  readonly samples: PositionList;
  /** Whether the label fields follow each other with nothing in between. */
  labelsContiguous: boolean;
  exemplars: number;
  histograms: number;
}

export function newSeriesFields(): SeriesFields {
  return { labelFields: new PositionList(), samples: new PositionList(), labelsContiguous: true, exemplars: 0, histograms: 0 };
}

/**
 * Walks the fields of the TimeSeries at [r.pos, end) into `fields` (reused between series):
 * wire types, lengths and exemplars are checked here; labels and samples are only located.
 */
export function walkTimeSeries(r: WireReader, end: number, fields: SeriesFields): void {
  const outerEnd = r.end;
  r.end = end;
  const { samples, labelFields } = fields;
  samples.length = 0;
  labelFields.length = 0;
  fields.labelsContiguous = true;
  fields.exemplars = 0;
  fields.histograms = 0;
  while (!r.atEnd()) {
    const tagStart = r.pos;
    const tag = r.tag('TimeSeries');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field >= 1 && field <= 4 && wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'TimeSeries');
    if (field === 1) {
      const labelEnd = r.lengthEnd('TimeSeries.labels');
      const n = labelFields.length;
      if (n > 0 && labelFields.ends[n - 1] !== tagStart) fields.labelsContiguous = false;
      labelFields.push(tagStart, labelEnd);
      r.pos = labelEnd;
    } else if (field === 2) {
      const sampleEnd = r.lengthEnd('TimeSeries.samples');
      samples.push(r.pos, sampleEnd);
      r.pos = sampleEnd;
    } else if (field === 3) {
      const exemplarEnd = r.lengthEnd('TimeSeries.exemplars');
      checkExemplar(r, exemplarEnd);
      fields.exemplars++;
    } else if (field === 4) {
      r.pos = r.lengthEnd('TimeSeries.histograms');
      fields.histograms++;
    } else {
      r.skip(wireType, 'TimeSeries');
    }
  }
  r.end = outerEnd;
}

function decodeTimeSeries(
  r: WireReader,
  end: number,
  fields: SeriesFields,
  cache: LabelCache | undefined,
  out: SamplesBuffer,
): { series: RawSeries; exemplars: number } {
  const outerEnd = r.end;
  walkTimeSeries(r, end, fields);
  const { samples, labelFields, labelsContiguous, exemplars, histograms } = fields;

  // A series sent before with the same label bytes needs no decoding or validation again.
  let rawKey: Uint8Array | undefined;
  let valid: ValidLabels | undefined;
  if (cache !== undefined && labelsContiguous && labelFields.length > 0) {
    const labelsStart = labelFields.starts[0]!;
    const labelsEnd = labelFields.ends[labelFields.length - 1]!;
    valid = cache.get(r.buf, labelsStart, labelsEnd);
    if (valid === undefined) rawKey = r.buf.subarray(labelsStart, labelsEnd);
  }
  const labels = valid !== undefined ? valid.labels : decodeLabelFields(r, labelFields);
  if (histograms > 0) {
    throw badData(`series ${formatLabelsBrief(labels)}: native histograms are not supported`);
  }
  const first = out.length;
  try {
    decodeSamples(r, samples, out);
  } catch (err) {
    throw inSeries(err, labels);
  }
  r.pos = end;
  r.end = outerEnd;
  const count = samples.length;
  const series: RawSeries =
    valid !== undefined
      ? { labels, first, count, valid }
      : rawKey !== undefined
        ? { labels, first, count, rawKey }
        : { labels, first, count };
  return { series, exemplars };
}

export function decodeSamples(r: WireReader, samples: PositionList, out: SamplesBuffer): void {
  for (let i = 0; i < samples.length; i++) decodeSample(r, samples.starts[i]!, samples.ends[i]!, out, false);
}

/** Decodes the label fields at the given positions (each a whole field: tag, length, Label). */
function decodeLabelFields(r: WireReader, labelFields: PositionList): Label[] {
  const labels: Label[] = new Array<Label>(labelFields.length);
  for (let i = 0; i < labelFields.length; i++) {
    r.pos = labelFields.starts[i]!;
    r.end = labelFields.ends[i]!;
    r.tag('TimeSeries');
    const labelEnd = r.lengthEnd('TimeSeries.labels');
    labels[i] = decodeLabel(r, labelEnd, labelStrings);
  }
  return labels;
}

/** Decodes label fields that follow each other in bytes [start, end). */
export function decodeLabelRange(r: WireReader, start: number, end: number): Label[] {
  const labels: Label[] = [];
  r.pos = start;
  r.end = end;
  while (!r.atEnd()) {
    r.tag('TimeSeries');
    const labelEnd = r.lengthEnd('TimeSeries.labels');
    labels.push(decodeLabel(r, labelEnd, labelStrings));
  }
  return labels;
}

/** Series labels are kept as long as the series is known, so their strings come from `pool`. */
function decodeLabel(r: WireReader, end: number, pool?: StringPool): Label {
  const outerEnd = r.end;
  r.end = end;
  let name = '';
  let value = '';
  while (!r.atEnd()) {
    const tag = r.tag('Label');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 || field === 2) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'Label');
      if (field === 1) name = r.string('label name');
      else value = r.string('label value');
    } else {
      r.skip(wireType, 'Label');
    }
  }
  r.end = outerEnd;
  return pool === undefined ? { name, value } : { name: pool.intern(name), value: pool.intern(value) };
}

/** Exemplars are not stored; they are still walked so malformed bytes are reported. */
function checkExemplar(r: WireReader, end: number): void {
  const outerEnd = r.end;
  r.end = end;
  while (!r.atEnd()) {
    const tag = r.tag('Exemplar');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'Exemplar');
      decodeLabel(r, r.lengthEnd('Exemplar.labels'));
    } else if (field === 2) {
      if (wireType !== WIRE_I64) throw wrongWireType(field, wireType, 'Exemplar');
      r.fixed64At('Exemplar.value');
    } else if (field === 3) {
      if (wireType !== WIRE_VARINT) throw wrongWireType(field, wireType, 'Exemplar');
      r.int64('Exemplar.timestamp');
    } else {
      r.skip(wireType, 'Exemplar');
    }
  }
  r.end = outerEnd;
}

export function decodeMetadata(r: WireReader, end: number): MetricMetadata {
  const outerEnd = r.end;
  r.end = end;
  let type = 0;
  let metricFamilyName = '';
  let help = '';
  let unit = '';
  while (!r.atEnd()) {
    const tag = r.tag('MetricMetadata');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      if (wireType !== WIRE_VARINT) throw wrongWireType(field, wireType, 'MetricMetadata');
      type = r.uint32('MetricMetadata.type');
    } else if (field === 2 || field === 4 || field === 5) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'MetricMetadata');
      const s = r.string('MetricMetadata');
      if (field === 2) metricFamilyName = s;
      else if (field === 4) help = s;
      else unit = s;
    } else {
      r.skip(wireType, 'MetricMetadata');
    }
  }
  r.end = outerEnd;
  return { metricFamilyName, type: metricTypeFromWire(type), help, unit };
}

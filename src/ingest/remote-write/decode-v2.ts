import { badData } from '../../errors.js';
import { METRIC_NAME, formatLabelsBrief, type Label } from '../../model/labels.js';
import type { MetricMetadata, MetricType } from '../../storage/types.js';
import type { DecodedWrite, RawSeries } from '../types.js';
import { metricTypeFromWire } from './metric-type.js';
import { SamplesBuffer } from '../samples-buffer.js';
import { decodeSample } from './sample.js';
import { WIRE_I64, WIRE_LEN, WIRE_VARINT, WireReader, inSeries, wrongWireType } from './wire.js';

/**
 * Decodes a remote write 2.0 `io.prometheus.write.v2.Request`. Strings come from the symbols
 * table; samples go straight into columnar arrays. Native histograms are refused (bad_data);
 * exemplars are checked and counted but not kept; per-series metadata becomes MetricMetadata
 * keyed by the metric family name.
 */
export function decodeWriteRequestV2(body: Uint8Array): DecodedWrite {
  const r = new WireReader(body);
  const symbols: string[] = [];
  const seriesStarts: number[] = [];
  const seriesEnds: number[] = [];
  // Symbols may follow the series on the wire, so series are decoded in a second pass.
  while (!r.atEnd()) {
    const tag = r.tag('Request');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 4) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'Request');
      symbols.push(r.string(`symbol ${symbols.length}`));
    } else if (field === 5) {
      if (wireType !== WIRE_LEN) throw wrongWireType(field, wireType, 'Request');
      const end = r.lengthEnd('Request.timeseries');
      seriesStarts.push(r.pos);
      seriesEnds.push(end);
      r.pos = end;
    } else {
      r.skip(wireType, 'Request');
    }
  }
  if (symbols.length > 0 && symbols[0] !== '') throw badData('symbols[0] must be the empty string');

  const series: RawSeries[] = [];
  const metadataByName = new Map<string, MetricMetadata>();
  const out = new SamplesBuffer(Math.ceil(body.length / 16));
  let exemplarCount = 0;
  for (let i = 0; i < seriesStarts.length; i++) {
    r.pos = seriesStarts[i]!;
    r.end = seriesEnds[i]!;
    const decoded = decodeTimeSeries(r, symbols, out);
    exemplarCount += decoded.exemplars;
    series.push(decoded.series);
    if (decoded.metadata !== undefined) metadataByName.set(decoded.metadata.metricFamilyName, decoded.metadata);
  }
  return { series, samples: out, metadata: [...metadataByName.values()], exemplarCount };
}

interface WireMetadata {
  type: number;
  helpRef: number;
  unitRef: number;
}

function decodeTimeSeries(
  r: WireReader,
  symbols: readonly string[],
  out: SamplesBuffer,
): { series: RawSeries; exemplars: number; metadata?: MetricMetadata } {
  const seriesEnd = r.end;
  const refs: number[] = [];
  const sampleStarts: number[] = [];
  const sampleEnds: number[] = [];
  let histograms = 0;
  let exemplars = 0;
  let wireMetadata: WireMetadata | undefined;
  while (!r.atEnd()) {
    const tag = r.tag('TimeSeries');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      readRefs(r, wireType, refs, 'TimeSeries.labels_refs');
    } else if (field >= 2 && field <= 5 && wireType !== WIRE_LEN) {
      throw wrongWireType(field, wireType, 'TimeSeries');
    } else if (field === 2) {
      const end = r.lengthEnd('TimeSeries.samples');
      sampleStarts.push(r.pos);
      sampleEnds.push(end);
      r.pos = end;
    } else if (field === 3) {
      r.pos = r.lengthEnd('TimeSeries.histograms');
      histograms++;
    } else if (field === 4) {
      const end = r.lengthEnd('TimeSeries.exemplars');
      checkExemplar(r, end, symbols);
      exemplars++;
    } else if (field === 5) {
      const end = r.lengthEnd('TimeSeries.metadata');
      wireMetadata = decodeMetadata(r, end);
    } else {
      r.skip(wireType, 'TimeSeries');
    }
  }
  const labels = resolveLabels(refs, symbols);
  if (histograms > 0) throw badData(`series ${formatLabelsBrief(labels)}: native histograms are not supported`);

  const first = out.length;
  try {
    decodeSamples(r, sampleStarts, sampleEnds, out);
  } catch (err) {
    throw inSeries(err, labels);
  }
  r.end = seriesEnd;
  r.pos = seriesEnd;

  const series: RawSeries = { labels, first, count: sampleStarts.length };
  if (wireMetadata === undefined) return { series, exemplars };
  const metadata = seriesMetadata(labels, wireMetadata, symbols);
  return metadata === undefined ? { series, exemplars } : { series, exemplars, metadata };
}

function decodeSamples(r: WireReader, sampleStarts: readonly number[], sampleEnds: readonly number[], out: SamplesBuffer): void {
  for (let i = 0; i < sampleStarts.length; i++) decodeSample(r, sampleStarts[i]!, sampleEnds[i]!, out, true);
}

/** Reads uint32 references, packed (one LEN field) or not (one varint per field). */
function readRefs(r: WireReader, wireType: number, out: number[], what: string): void {
  if (wireType === WIRE_VARINT) {
    out.push(r.uint32(what));
  } else if (wireType === WIRE_LEN) {
    const end = r.lengthEnd(what);
    const outerEnd = r.end;
    r.end = end;
    while (!r.atEnd()) out.push(r.uint32(what));
    r.end = outerEnd;
  } else {
    throw badData(`${what} has wrong wire type ${wireType}`);
  }
}

function symbol(symbols: readonly string[], ref: number, what: string): string {
  const s = symbols[ref];
  if (s === undefined) throw badData(`${what} refers to symbol ${ref}, but the table has ${symbols.length}`);
  return s;
}

function resolveLabels(refs: readonly number[], symbols: readonly string[]): Label[] {
  if (refs.length % 2 !== 0) throw badData(`labels_refs has an odd length ${refs.length}`);
  const labels: Label[] = new Array<Label>(refs.length / 2);
  for (let i = 0; i < refs.length; i += 2) {
    labels[i / 2] = {
      name: symbol(symbols, refs[i]!, 'a label name'),
      value: symbol(symbols, refs[i + 1]!, 'a label value'),
    };
  }
  return labels;
}

function checkExemplar(r: WireReader, end: number, symbols: readonly string[]): void {
  const outerEnd = r.end;
  r.end = end;
  const refs: number[] = [];
  while (!r.atEnd()) {
    const tag = r.tag('Exemplar');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      readRefs(r, wireType, refs, 'Exemplar.labels_refs');
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
  resolveLabels(refs, symbols);
  r.end = outerEnd;
}

function decodeMetadata(r: WireReader, end: number): WireMetadata {
  const outerEnd = r.end;
  r.end = end;
  const m: WireMetadata = { type: 0, helpRef: 0, unitRef: 0 };
  while (!r.atEnd()) {
    const tag = r.tag('Metadata');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 || field === 3 || field === 4) {
      if (wireType !== WIRE_VARINT) throw wrongWireType(field, wireType, 'Metadata');
      const v = r.uint32('Metadata');
      if (field === 1) m.type = v;
      else if (field === 3) m.helpRef = v;
      else m.unitRef = v;
    } else {
      r.skip(wireType, 'Metadata');
    }
  }
  r.end = outerEnd;
  return m;
}

/** Suffixes a series name carries on top of its family name, per family type. */
const FAMILY_SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['_sum', '_count'],
};

function seriesMetadata(
  labels: readonly Label[],
  m: WireMetadata,
  symbols: readonly string[],
): MetricMetadata | undefined {
  const help = symbol(symbols, m.helpRef, 'Metadata.help_ref');
  const unit = symbol(symbols, m.unitRef, 'Metadata.unit_ref');
  if (m.type === 0 && help === '' && unit === '') return undefined;
  const name = labels.find((l) => l.name === METRIC_NAME)?.value;
  if (name === undefined || name === '') return undefined;
  const type = metricTypeFromWire(m.type);
  let family = name;
  for (const suffix of FAMILY_SUFFIXES[type] ?? []) {
    if (name.endsWith(suffix) && name.length > suffix.length) {
      family = name.slice(0, -suffix.length);
      break;
    }
  }
  return { metricFamilyName: family, type, help, unit };
}

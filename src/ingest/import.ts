import { MetricstorError, badData } from '../errors.js';
import { isValidLabelName, type Label } from '../model/labels.js';
import type { AppendBatch, MetricMetadata } from '../storage/types.js';
import { parseExposition, type ExpositionFormat } from './exposition/parse.js';
import type { IngestLimits } from './limits.js';
import { decodeUtf8 } from './remote-write/wire.js';
import { SamplesBuffer } from './samples-buffer.js';
import type { RawSeries } from './types.js';
import { validateWrite } from './validate.js';

export interface ImportParams {
  /** The timestamp of samples written without one, in milliseconds. */
  readonly defaultTimestampMs: number;
  /** Labels added to every series, replacing a label of the same name. */
  readonly extraLabels: readonly Label[];
}

/**
 * Reads VictoriaMetrics's import query parameters: `timestamp` (integer milliseconds since the
 * epoch, default nowMs) and repeated `extra_label=name=value`.
 */
export function parseImportParams(query: URLSearchParams, nowMs: number): ImportParams {
  let defaultTimestampMs = nowMs;
  const ts = query.get('timestamp');
  if (ts !== null && ts !== '') {
    if (!/^-?\d+$/.test(ts) || !Number.isSafeInteger(Number(ts))) {
      throw badData(`invalid timestamp parameter ${JSON.stringify(ts)}: want integer milliseconds since the epoch`);
    }
    defaultTimestampMs = Number(ts);
  }
  const extraLabels: Label[] = [];
  for (const pair of query.getAll('extra_label')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq);
    if (eq < 0 || !isValidLabelName(name)) {
      throw badData(`invalid extra_label ${JSON.stringify(pair)}: want name=value with a valid label name`);
    }
    const at = extraLabels.findIndex((l) => l.name === name);
    if (at >= 0) extraLabels.splice(at, 1);
    extraLabels.push({ name, value: pair.slice(eq + 1) });
  }
  return { defaultTimestampMs, extraLabels };
}

/**
 * Parses and validates an exposition body into an append batch and metadata; throws before anything could
 * be written. Samples of one series are grouped together.
 */
export function importExposition(
  body: Buffer,
  format: ExpositionFormat,
  params: ImportParams,
  limits: IngestLimits,
): { appends: AppendBatch; metadata: MetricMetadata[] } {
  const text = decodeUtf8(body, 0, body.length, 'the request body');
  const parsed = parseExposition(text, format);
  const series: RawSeries[] = [];
  const samples = new SamplesBuffer(parsed.samples.length);
  for (let i = 0; i < parsed.samples.length; i++) {
    const s = parsed.samples[i]!;
    let labels = s.labels;
    if (params.extraLabels.length > 0) {
      labels = labels.filter((l) => !params.extraLabels.some((e) => e.name === l.name));
      labels.push(...params.extraLabels);
    }
    samples.pushFrom(s.timestampMs ?? params.defaultTimestampMs, parsed.values, i);
    series.push({ labels, first: i, count: 1 });
  }
  const appends = validateWrite(
    { series, samples, metadata: parsed.metadata, exemplarCount: 0 },
    { ...limits, maxSeriesPerRequest: Number.MAX_SAFE_INTEGER },
  );
  if (appends.length > limits.maxSeriesPerRequest) {
    throw new MetricstorError('too_large', `import has ${appends.length} series, more than the limit of ${limits.maxSeriesPerRequest}`);
  }
  return { appends, metadata: parsed.metadata };
}

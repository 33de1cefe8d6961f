import { MetricstorError, badData } from '../errors.js';
import {
  METRIC_NAME,
  formatLabels,
  isValidLabelName,
  isValidMetricName,
  type Label,
} from '../model/labels.js';
import type { MetricMetadata, SeriesAppend } from '../storage/types.js';
import type { IngestLimits } from './limits.js';
import type { LabelCache } from './label-cache.js';
import type { DecodedWrite, RawSeries } from './types.js';

/**
 * Turns decoded series into appends storage accepts, or throws for the first offending series.
 * Labels are sorted and empty-valued labels dropped (as Prometheus does); series that repeat
 * within the request are merged into one append. Nothing here touches storage, so a request
 * that fails validation writes nothing.
 */
export function validateWrite(decoded: DecodedWrite, limits: IngestLimits, cache?: LabelCache): SeriesAppend[] {
  if (decoded.series.length > limits.maxSeriesPerRequest) {
    throw new MetricstorError(
      'too_large',
      `request has ${decoded.series.length} series, more than the limit of ${limits.maxSeriesPerRequest}`,
    );
  }
  if (decoded.sampleCount > limits.maxSamplesPerRequest) {
    throw new MetricstorError(
      'too_large',
      `request has ${decoded.sampleCount} samples, more than the limit of ${limits.maxSamplesPerRequest}`,
    );
  }
  for (const m of decoded.metadata) validateMetadata(m);

  const out: SeriesAppend[] = [];
  const indexByKey = new Map<string, number>();
  const merged = new Map<number, RawSeries[]>();
  for (const raw of decoded.series) {
    let labels: readonly Label[];
    let key: string;
    if (raw.valid !== undefined) {
      ({ labels, key } = raw.valid);
    } else {
      labels = normaliseLabels(raw.labels, limits);
      key = labelsKey(labels);
      if (cache !== undefined && raw.rawKey !== undefined) cache.set(raw.rawKey, { labels, key });
    }
    checkTimestamps(raw.timestamps, labels);
    if (raw.timestamps.length === 0) continue;
    const at = indexByKey.get(key);
    if (at === undefined) {
      indexByKey.set(key, out.length);
      out.push({ labels, timestamps: raw.timestamps, values: raw.values });
    } else {
      let parts = merged.get(at);
      if (parts === undefined) {
        const first = out[at]!;
        parts = [{ labels: first.labels, timestamps: first.timestamps as Float64Array, values: first.values }];
        merged.set(at, parts);
      }
      parts.push(raw);
    }
  }
  for (const [at, parts] of merged) {
    out[at] = { labels: out[at]!.labels, ...concatSamples(parts) };
  }
  return out;
}

/** Validates one label set against the rules and limits; returns it sorted without empty values. */
export function normaliseLabels(raw: readonly Label[], limits: IngestLimits): readonly Label[] {
  if (raw.length > limits.maxLabelsPerSeries) {
    throw badData(
      `series ${formatLabels(raw)} has ${raw.length} labels, more than the limit of ${limits.maxLabelsPerSeries}`,
    );
  }
  let labels: readonly Label[] = raw;
  let sorted = true;
  let hasEmpty = false;
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i]!;
    if (l.name.length > limits.maxLabelNameLength) {
      throw badData(
        `series ${formatLabels(raw)}: label name of ${l.name.length} characters is longer than the limit of ${limits.maxLabelNameLength}`,
      );
    }
    if (l.value.length > limits.maxLabelValueLength) {
      throw badData(
        `series ${formatLabels(raw)}: value of label ${JSON.stringify(l.name)} has ${l.value.length} characters, more than the limit of ${limits.maxLabelValueLength}`,
      );
    }
    if (l.value === '') hasEmpty = true;
    if (i > 0 && raw[i - 1]!.name > l.name) sorted = false;
  }
  if (hasEmpty) labels = labels.filter((l) => l.value !== '');
  if (!sorted) labels = [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let name: string | undefined;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0 && labels[i - 1]!.name === l.name) {
      throw badData(`series ${formatLabels(raw)}: label name ${JSON.stringify(l.name)} is not unique`);
    }
    if (l.name === METRIC_NAME) {
      name = l.value;
      if (!isValidMetricName(l.value)) {
        throw badData(`series ${formatLabels(raw)}: invalid metric name ${JSON.stringify(l.value)}`);
      }
    } else if (!isValidLabelName(l.name)) {
      throw badData(`series ${formatLabels(raw)}: invalid label name ${JSON.stringify(l.name)}`);
    }
  }
  if (name === undefined) {
    throw badData(`series ${formatLabels(raw)} has no metric name (label __name__ missing or empty)`);
  }
  return labels;
}

function checkTimestamps(timestamps: Float64Array, labels: readonly Label[]): void {
  for (let i = 0; i < timestamps.length; i++) {
    if (!Number.isSafeInteger(timestamps[i]!)) {
      throw badData(
        `series ${formatLabels(labels)}: timestamp ${timestamps[i]} is out of range; timestamps must be integer milliseconds within ±${Number.MAX_SAFE_INTEGER}`,
      );
    }
  }
}

function validateMetadata(m: MetricMetadata): void {
  if (m.metricFamilyName === '') throw badData('metadata entry has an empty metric family name');
  if (!isValidMetricName(m.metricFamilyName)) {
    throw badData(`metadata entry has an invalid metric family name ${JSON.stringify(m.metricFamilyName)}`);
  }
}

/** A string that is equal exactly for equal sorted label sets (values are length-prefixed). */
function labelsKey(labels: readonly Label[]): string {
  let key = '';
  for (const l of labels) key += l.name + '=' + l.value.length + ':' + l.value;
  return key;
}

function concatSamples(parts: readonly Pick<RawSeries, 'timestamps' | 'values'>[]): {
  timestamps: Float64Array;
  values: Float64Array;
} {
  let n = 0;
  for (const p of parts) n += p.timestamps.length;
  const timestamps = new Float64Array(n);
  // Copy values through byte views so no NaN payload passes through a JS number.
  const valueBytes = new Uint8Array(n * 8);
  let at = 0;
  for (const p of parts) {
    timestamps.set(p.timestamps, at);
    valueBytes.set(new Uint8Array(p.values.buffer, p.values.byteOffset, p.values.byteLength), at * 8);
    at += p.timestamps.length;
  }
  return { timestamps, values: new Float64Array(valueBytes.buffer) };
}

import { MetricstorError, badData } from '../errors.js';
import {
  METRIC_NAME,
  formatLabelsBrief,
  isValidLabelName,
  isValidMetricName,
  type Label,
} from '../model/labels.js';
import type { AppendBatch, MetricMetadata, SeriesRef } from '../storage/types.js';
import type { IngestLimits } from './limits.js';
import type { LabelCache } from './label-cache.js';
import type { DecodedWrite } from './types.js';

/** How many samples a batch carries. */
export function appendSampleCount(batch: AppendBatch): number {
  let n = 0;
  for (let i = 0; i < batch.length; i++) n += batch.ends[i]! - batch.starts[i]!;
  return n;
}

/** Numbers each validateWrite call, so a label set can be marked as seen in this one. */
let requestCount = 0;

/**
 * Turns decoded series into the batch storage accepts, or throws for the first offending series.
 * Labels are sorted and empty-valued labels dropped (as Prometheus does); series that repeat
 * within the request are merged into one; series without samples are left out. Nothing here
 * touches storage, so a request that fails validation writes nothing.
 */
export function validateWrite(decoded: DecodedWrite, limits: IngestLimits, cache?: LabelCache): AppendBatch {
  const { series, samples } = decoded;
  if (series.length > limits.maxSeriesPerRequest) {
    throw new MetricstorError(
      'too_large',
      `request has ${series.length} series, more than the limit of ${limits.maxSeriesPerRequest}`,
    );
  }
  if (samples.length > limits.maxSamplesPerRequest) {
    throw new MetricstorError(
      'too_large',
      `request has ${samples.length} samples, more than the limit of ${limits.maxSamplesPerRequest}`,
    );
  }
  for (const m of decoded.metadata) validateMetadata(m);

  // Pass 1: validate every label set and find which raw series belong to the same series. Label
  // sets from the cache are grouped by identity (a mark on the object); the string keys are only
  // compared once a request holds a set the cache did not know.
  const request = ++requestCount;
  // Sized for the worst case (no repeats) up front: growing them by push left garbage per request.
  const groupLabels = new Array<readonly Label[]>(series.length);
  const groupRefs = new Array<SeriesRef | undefined>(series.length);
  const groupKeys = new Array<string>(series.length);
  const groupCounts = new Float64Array(series.length);
  let groups = 0;
  const groupOf = new Int32Array(series.length);
  let groupByKey: Map<string, number> | null = null;
  let merges = 0;
  for (let i = 0; i < series.length; i++) {
    const raw = series[i]!;
    let g: number | undefined;
    let valid = raw.valid;
    let labels: readonly Label[];
    let key: string;
    if (valid !== undefined) {
      ({ labels, key } = valid);
      if (valid.request === request) g = valid.group;
    } else {
      labels = normaliseLabels(raw.labels, limits);
      key = labelsKey(labels);
      if (cache !== undefined && raw.rawKey !== undefined) {
        valid = cache.set(raw.rawKey, { labels, key, ref: { storage: undefined }, request: 0, group: 0 });
        labels = valid.labels;
        if (valid.request === request) g = valid.group;
      }
      if (groupByKey === null) {
        groupByKey = new Map<string, number>();
        for (let k = 0; k < groups; k++) groupByKey.set(groupKeys[k]!, k);
      }
    }
    checkTimestamps(samples.timestamps, raw.first, raw.count, labels);
    if (g === undefined && groupByKey !== null) g = groupByKey.get(key);
    if (g === undefined) {
      g = groups++;
      groupByKey?.set(key, g);
      groupLabels[g] = labels;
      groupRefs[g] = valid?.ref;
      groupKeys[g] = key;
    } else {
      merges++;
    }
    if (valid !== undefined) {
      valid.request = request;
      valid.group = g;
    }
    groupOf[i] = g;
    groupCounts[g]! += raw.count;
  }

  // Pass 2: lay the samples out series by series in one buffer; the batch names each one's range of it.
  const total = samples.length;
  const refs = cache === undefined ? undefined : groupRefs;
  if (merges === 0) {
    let empty = 0;
    for (let i = 0; i < series.length; i++) if (series[i]!.count === 0) empty++;
    const n = series.length - empty;
    const labels = empty === 0 ? groupLabels : new Array<readonly Label[]>(n);
    const keptRefs = empty === 0 || refs === undefined ? refs : new Array<SeriesRef | undefined>(n);
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    for (let i = 0, k = 0; i < series.length; i++) {
      const raw = series[i]!;
      if (raw.count === 0) continue;
      if (empty > 0) {
        labels[k] = groupLabels[i]!;
        if (keptRefs !== undefined) keptRefs[k] = groupRefs[i];
      }
      starts[k] = raw.first;
      ends[k] = raw.first + raw.count;
      k++;
    }
    return batchOf(labels, keptRefs, samples.timestamps, samples.values, starts, ends);
  }
  const timestamps = new Float64Array(total);
  const valueBytes = new Uint8Array(total * 8);
  const values = new Float64Array(valueBytes.buffer);
  const groupStart = new Int32Array(groups);
  const groupFill = new Int32Array(groups);
  let nonEmpty = 0;
  for (let g = 0, at = 0; g < groups; g++) {
    groupStart[g] = at;
    at += groupCounts[g]!;
    if (groupCounts[g] !== 0) nonEmpty++;
  }
  const srcTimestamps = samples.timestamps;
  const srcBytes = samples.valueBytes;
  for (let i = 0; i < series.length; i++) {
    const raw = series[i]!;
    const g = groupOf[i]!;
    let to = groupStart[g]! + groupFill[g]!;
    groupFill[g]! += raw.count;
    for (let k = raw.first; k < raw.first + raw.count; k++, to++) {
      timestamps[to] = srcTimestamps[k]!;
      const from = k * 8;
      const dst = to * 8;
      for (let b = 0; b < 8; b++) valueBytes[dst + b] = srcBytes[from + b]!;
    }
  }
  const labels = new Array<readonly Label[]>(nonEmpty);
  const keptRefs = refs === undefined ? undefined : new Array<SeriesRef | undefined>(nonEmpty);
  const starts = new Int32Array(nonEmpty);
  const ends = new Int32Array(nonEmpty);
  for (let g = 0, k = 0; g < groups; g++) {
    if (groupCounts[g] === 0) continue;
    labels[k] = groupLabels[g]!;
    if (keptRefs !== undefined) keptRefs[k] = groupRefs[g];
    starts[k] = groupStart[g]!;
    ends[k] = groupStart[g]! + groupCounts[g]!;
    k++;
  }
  return batchOf(labels, keptRefs, timestamps, values, starts, ends);
}

function batchOf(
  labels: readonly (readonly Label[])[],
  refs: readonly (SeriesRef | undefined)[] | undefined,
  timestamps: Float64Array,
  values: Float64Array,
  starts: Int32Array,
  ends: Int32Array,
): AppendBatch {
  return refs === undefined
    ? { length: starts.length, labels, timestamps, values, starts, ends }
    : { length: starts.length, labels, refs, timestamps, values, starts, ends };
}

/** Validates one label set against the rules and limits; returns it sorted without empty values. */
export function normaliseLabels(raw: readonly Label[], limits: IngestLimits): readonly Label[] {
  if (raw.length > limits.maxLabelsPerSeries) {
    throw badData(
      `series ${formatLabelsBrief(raw)} has ${raw.length} labels, more than the limit of ${limits.maxLabelsPerSeries}`,
    );
  }
  let labels: readonly Label[] = raw;
  let sorted = true;
  let hasEmpty = false;
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i]!;
    if (l.name.length > limits.maxLabelNameLength) {
      throw badData(
        `series ${formatLabelsBrief(raw)}: label name of ${l.name.length} characters is longer than the limit of ${limits.maxLabelNameLength}`,
      );
    }
    if (l.value.length > limits.maxLabelValueLength) {
      throw badData(
        `series ${formatLabelsBrief(raw)}: value of label ${JSON.stringify(l.name)} has ${l.value.length} characters, more than the limit of ${limits.maxLabelValueLength}`,
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
      throw badData(`series ${formatLabelsBrief(raw)}: label name ${JSON.stringify(l.name)} is not unique`);
    }
    if (l.name === METRIC_NAME) {
      name = l.value;
      if (!isValidMetricName(l.value)) {
        throw badData(`series ${formatLabelsBrief(raw)}: invalid metric name ${JSON.stringify(l.value)}`);
      }
    } else if (!isValidLabelName(l.name)) {
      throw badData(`series ${formatLabelsBrief(raw)}: invalid label name ${JSON.stringify(l.name)}`);
    }
  }
  if (name === undefined) {
    throw badData(`series ${formatLabelsBrief(raw)} has no metric name (label __name__ missing or empty)`);
  }
  return labels;
}

function checkTimestamps(timestamps: Float64Array, first: number, count: number, labels: readonly Label[]): void {
  for (let i = first; i < first + count; i++) {
    if (!Number.isSafeInteger(timestamps[i]!)) {
      throw badData(
        `series ${formatLabelsBrief(labels)}: timestamp ${timestamps[i]} is out of range; timestamps must be integer milliseconds within ±${Number.MAX_SAFE_INTEGER}`,
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

/**
 * A string that is equal exactly for equal sorted label sets (values are length-prefixed). Joined
 * rather than concatenated: it is kept with the cached labels, and a concatenated one is a tree
 * of V8 cons strings several times the size of the flat string.
 */
function labelsKey(labels: readonly Label[]): string {
  const parts = new Array<string>(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    parts[i] = `${l.name}=${l.value.length}:${l.value}`;
  }
  return parts.join('');
}

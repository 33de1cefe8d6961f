import { badData } from '../errors.js';
import type { Labels } from '../model/labels.js';
import type { AppendBatch, SeriesAppend, SeriesRef } from './types.js';

/**
 * Gathers appends of one series each into one batch, copying their samples into shared columns
 * (values bit for bit). For callers that build series one by one; ingest builds batches directly.
 */
export function appendBatchOf(series: readonly SeriesAppend[]): AppendBatch {
  let total = 0;
  for (const s of series) {
    const { start, end } = rangeOf(s);
    total += end - start;
  }
  const labels = new Array<Labels>(series.length);
  const refs = new Array<SeriesRef | undefined>(series.length);
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  const starts = new Int32Array(series.length);
  const ends = new Int32Array(series.length);
  let hasRefs = false;
  let at = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    const { start, end } = rangeOf(s);
    labels[i] = s.labels;
    refs[i] = s.ref;
    if (s.ref !== undefined) hasRefs = true;
    starts[i] = at;
    for (let k = start; k < end; k++) timestamps[at + k - start] = s.timestamps[k]!;
    values.set(s.values.subarray(start, end), at);
    at += end - start;
    ends[i] = at;
  }
  return { length: series.length, labels, ...(hasRefs ? { refs } : {}), timestamps, values, starts, ends };
}

/** A series' samples [start, end), checked against its arrays. */
function rangeOf(s: SeriesAppend): { start: number; end: number } {
  if (!(s.values instanceof Float64Array)) throw badData('sample values must be a Float64Array');
  const start = s.start ?? 0;
  const end = s.end ?? s.timestamps.length;
  if (s.start === undefined && s.end === undefined) {
    if (s.values.length !== end) throw badData(`series has ${end} timestamps but ${s.values.length} values`);
  } else if (
    !(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= s.timestamps.length && end <= s.values.length)
  ) {
    throw badData(`series samples [${start}, ${end}) are not within its ${s.timestamps.length} timestamps and ${s.values.length} values`);
  }
  return { start, end };
}

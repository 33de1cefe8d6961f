import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matchers.js';
import type { MetricType } from '../model/metric-type.js';

/**
 * The samples of one series to append (appendBatchOf gathers them into an AppendBatch). Labels are valid and sorted (ingest guarantees it);
 * timestamps are integer milliseconds within Number.MIN_SAFE_INTEGER..MAX_SAFE_INTEGER, in any
 * order; values are float64 with every bit pattern (NaN payloads, the staleness marker) kept.
 * The samples are timestamps[start, end) with values[start, end), so the series of one request
 * can share two columns instead of two views each.
 */
export interface SeriesAppend {
  readonly labels: Labels;
  readonly timestamps: ArrayLike<number>;
  /** A Float64Array, never a number[]: V8 may canonicalise NaN payloads in plain arrays. */
  readonly values: Float64Array;
  /** Index of the first sample in timestamps and values; default 0. */
  readonly start?: number;
  /** One past the index of the last sample; default timestamps.length. */
  readonly end?: number;
  /**
   * A slot kept with these labels by the caller (ingest's label cache) across appends: storage
   * leaves in it what it found for the series and skips the label lookup next time. Optional.
   */
  readonly ref?: SeriesRef;
}

/**
 * The samples of the series of one append, column by column: series i has labels[i] and samples
 * [starts[i], ends[i]) of timestamps and values. One object per request instead of one per
 * series: whatever an append holds lives until its write-ahead fsync, long enough for the young
 * generation to promote it, and a few arrays promote far less than an object per series.
 * Sample rules are those of SeriesAppend. appendBatchOf builds one from SeriesAppends.
 */
export interface AppendBatch {
  /** How many series; the length of labels, starts and ends. */
  readonly length: number;
  readonly labels: readonly Labels[];
  /** Slots kept with the labels across appends, as SeriesAppend.ref; absent or undefined for none. */
  readonly refs?: readonly (SeriesRef | undefined)[];
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
}

/** Opaque to callers; only the storage that filled it reads it back, and checks it still holds. */
export interface SeriesRef {
  storage: unknown;
}

/** One series as read: samples sorted by timestamp, one sample per timestamp. */
export interface SeriesData {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export interface SelectParams {
  readonly matchers: readonly Matcher[];
  /** Inclusive bounds in milliseconds. */
  readonly startMs: number;
  readonly endMs: number;
}

/** What the PromQL engine needs from storage: every series matching, with samples in range. */
export interface Queryable {
  select(params: SelectParams): Promise<SeriesData[]>;
}

export type { MetricType } from '../model/metric-type.js';

export interface MetricMetadata {
  readonly metricFamilyName: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

export interface LabelQuery {
  /** Series must match at least one of these matcher sets; empty = all series. */
  readonly matcherSets: readonly (readonly Matcher[])[];
  readonly startMs: number;
  readonly endMs: number;
  /** 0 or absent = no limit. */
  readonly limit?: number;
}

export interface TsdbStats {
  readonly numSeries: number;
  readonly seriesCountByMetricName: { name: string; value: number }[];
  readonly labelValueCountByLabelName: { name: string; value: number }[];
  readonly seriesCountByLabelValuePair: { name: string; value: number }[];
}

/** The whole storage surface used by ingest, the API and background jobs. */
export interface MetricStorage extends Queryable {
  /** Resolves once every sample is durable in the KV (under either head policy). */
  append(batch: AppendBatch): Promise<void>;
  putMetadata(entries: readonly MetricMetadata[]): Promise<void>;
  metadata(metric?: string, limit?: number): Promise<Map<string, MetricMetadata[]>>;
  labelNames(q: LabelQuery): Promise<string[]>;
  labelValues(name: string, q: LabelQuery): Promise<string[]>;
  series(q: LabelQuery): Promise<Labels[]>;
  deleteSeries(q: LabelQuery): Promise<void>;
  stats(limit: number): Promise<TsdbStats>;
  /** True when the KV answers. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

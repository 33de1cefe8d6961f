import { badData } from '../errors.js';

/** Per-request ingestion limits; every one is checked before anything is written. */
export interface IngestLimits {
  /** Bytes of the request body as sent (compressed). Over it: 413. */
  readonly maxBodyBytes: number;
  /** Bytes of the body after snappy/gzip decoding. Over it: 413. */
  readonly maxDecodedBytes: number;
  /** Series entries in one request (TimeSeries messages, or distinct series of an import). Over it: 413. */
  readonly maxSeriesPerRequest: number;
  /** Samples in one request. Over it: 413. */
  readonly maxSamplesPerRequest: number;
  /** Labels of one series, __name__ included. Over it: 400. */
  readonly maxLabelsPerSeries: number;
  /** Characters of a label name. Over it: 400. */
  readonly maxLabelNameLength: number;
  /** Characters of a label value. Over it: 400. */
  readonly maxLabelValueLength: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBodyBytes: 32 * 1024 * 1024,
  maxDecodedBytes: 64 * 1024 * 1024,
  maxSeriesPerRequest: 200_000,
  maxSamplesPerRequest: 1_000_000,
  maxLabelsPerSeries: 64,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 4096,
};

/** Fills unset limits from the defaults and rejects non-positive or fractional ones. */
export function ingestLimits(overrides: Partial<IngestLimits> = {}): IngestLimits {
  const merged: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw badData(`ingest limit ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  return merged;
}

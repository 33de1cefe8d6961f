import type { Label } from '../model/labels.js';
import type { MetricMetadata, SeriesRef } from '../storage/types.js';
import type { SamplesBuffer } from './samples-buffer.js';

/** A label set that passed validation: sorted, no empty values, plus its canonical key. */
export interface ValidLabels {
  readonly labels: readonly Label[];
  /** Equal exactly for equal label sets; used to merge repeats of a series. */
  readonly key: string;
  /** Handed to storage with every append of these labels (SeriesAppend.ref). */
  readonly ref?: SeriesRef;
  /** The request validateWrite last saw these labels in, and their group there. */
  request?: number;
  group?: number;
}

/** One series as a sender described it: labels not yet validated, possibly unsorted. */
export interface RawSeries {
  readonly labels: readonly Label[];
  /** Its samples are samples[first .. first + count) of the request's SamplesBuffer. */
  readonly first: number;
  readonly count: number;
  /** The encoded label bytes (a view of the request), when a label cache missed them. */
  readonly rawKey?: Uint8Array;
  /** Set when the label cache already knew these labels; validation then trusts them. */
  readonly valid?: ValidLabels;
}

/** What a decoder produced from one request body. */
export interface DecodedWrite {
  readonly series: RawSeries[];
  /** Every sample of the request; timestamps are integer milliseconds, values bit-exact. */
  readonly samples: SamplesBuffer;
  readonly metadata: MetricMetadata[];
  /** Exemplars seen; they are checked for well-formedness but not stored. */
  readonly exemplarCount: number;
}

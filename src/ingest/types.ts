import type { Label } from '../model/labels.js';
import type { MetricMetadata } from '../storage/types.js';

/** One series as a sender described it: labels not yet validated, possibly unsorted. */
export interface RawSeries {
  readonly labels: Label[];
  /** Integer milliseconds, already checked to be safe integers by the decoders. */
  readonly timestamps: Float64Array;
  /** Bit-exact copies of the sent float64 values. */
  readonly values: Float64Array;
}

/** What a decoder produced from one request body. */
export interface DecodedWrite {
  readonly series: RawSeries[];
  readonly metadata: MetricMetadata[];
  readonly sampleCount: number;
  /** Exemplars seen; they are checked for well-formedness but not stored. */
  readonly exemplarCount: number;
}

import type { SeriesAppend } from '../../src/storage/types.js';

export const CRASH_WRITER_ID = 0x5eed_0000_0000_0001n;
export const CRASH_T0 = 1_700_000_000_000;
export const CRASH_SERIES = 8;
const SAMPLES_PER_BATCH = 25;

/**
 * Batch n: every series gets samples n*25 .. n*25+24 (one per second), except that every 7th
 * batch also rewrites a few older timestamps (out of order, same values) to exercise extra chunks.
 */
export function batchSeries(n: number): SeriesAppend[] {
  const out: SeriesAppend[] = [];
  for (let s = 0; s < CRASH_SERIES; s++) {
    const ts: number[] = [];
    for (let j = 0; j < SAMPLES_PER_BATCH; j++) ts.push(CRASH_T0 + (n * SAMPLES_PER_BATCH + j) * 1000);
    if (n % 7 === 6) for (let j = 1; j <= 3; j++) ts.push(CRASH_T0 + (n - j) * SAMPLES_PER_BATCH * 1000);
    out.push({
      labels: [
        { name: '__name__', value: 'crash_test' },
        { name: 'series', value: String(s) },
      ],
      timestamps: ts,
      values: Float64Array.from(ts, (t) => valueAt(s, t)),
    });
  }
  return out;
}

export function valueAt(series: number, t: number): number {
  return series * 1e6 + (t - CRASH_T0) / 1000;
}

export function batchTimestamps(n: number): number[] {
  const ts: number[] = [];
  for (let j = 0; j < SAMPLES_PER_BATCH; j++) ts.push(CRASH_T0 + (n * SAMPLES_PER_BATCH + j) * 1000);
  return ts;
}

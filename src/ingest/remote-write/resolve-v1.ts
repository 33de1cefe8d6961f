import type { LabelCache } from '../label-cache.js';
import { SamplesBuffer } from '../samples-buffer.js';
import type { DecodedWrite, RawSeries } from '../types.js';
import { decodeLabelRange } from './decode-v1.js';
import {
  COL_FIRST_SAMPLE,
  COL_LABELS_END,
  COL_LABELS_HASH,
  COL_LABELS_START,
  COL_SAMPLE_COUNT,
  SERIES_COLUMNS,
  type ScannedWriteV1,
} from './scan-v1.js';
import { WireReader } from './wire.js';

/**
 * Completes a scanned request into what decodeWriteRequestV1 returns for the same bytes: label
 * sets come from the cache by their bytes, or are decoded (and offered to the cache by
 * validation) when it has not seen them.
 */
export function resolveScannedV1(scan: ScannedWriteV1, cache?: LabelCache): DecodedWrite {
  const r = new WireReader(scan.body);
  const rows = scan.series;
  const series: RawSeries[] = new Array<RawSeries>(scan.seriesCount);
  for (let i = 0; i < scan.seriesCount; i++) {
    const row = i * SERIES_COLUMNS;
    const start = rows[row + COL_LABELS_START]!;
    const end = rows[row + COL_LABELS_END]!;
    const first = rows[row + COL_FIRST_SAMPLE]!;
    const count = rows[row + COL_SAMPLE_COUNT]!;
    if (cache === undefined || start === end) {
      series[i] = { labels: decodeLabelRange(r, start, end), first, count };
      continue;
    }
    const valid = cache.getHashed(rows[row + COL_LABELS_HASH]! | 0, r.buf, start, end);
    series[i] =
      valid !== undefined
        ? { labels: valid.labels, first, count, valid }
        : { labels: decodeLabelRange(r, start, end), first, count, rawKey: r.buf.subarray(start, end) };
  }
  return {
    series,
    samples: SamplesBuffer.wrap(scan.timestamps, scan.valueBytes, scan.sampleCount),
    metadata: scan.metadata,
    exemplarCount: scan.exemplarCount,
  };
}

import type { LabelIdTable, RequestLabelIds } from '../decode-workers/label-ids.js';
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

const NO_IDS = new Uint32Array(0);

/**
 * Completes a scanned request into what decodeWriteRequestV1 returns for the same bytes: label
 * sets come from the worker's id table, else from the cache by their bytes (and are then entered
 * in the id table), or are decoded (and offered to the cache by validation) when it has not seen
 * them.
 */
export function resolveScannedV1(scan: ScannedWriteV1, cache?: LabelCache, workerIds?: RequestLabelIds): DecodedWrite {
  const r = new WireReader(scan.body);
  let table: LabelIdTable | undefined;
  let ids: Uint32Array = NO_IDS;
  if (cache !== undefined && workerIds !== undefined && workerIds.table.open(workerIds.generation, cache)) {
    table = workerIds.table;
    ids = workerIds.ids;
  }
  const rows = scan.series;
  const series: RawSeries[] = new Array<RawSeries>(scan.seriesCount);
  for (let i = 0; i < scan.seriesCount; i++) {
    const row = i * SERIES_COLUMNS;
    const start = rows[row + COL_LABELS_START]!;
    const end = rows[row + COL_LABELS_END]!;
    const first = rows[row + COL_FIRST_SAMPLE]!;
    const count = rows[row + COL_SAMPLE_COUNT]!;
    if (cache === undefined || start === end) {
      series[i] = { labels: decodeLabelRange(r, start, end), first, count, rawKey: undefined, valid: undefined };
      continue;
    }
    if (table !== undefined) {
      const known = table.get(ids[i]!);
      if (known !== undefined) {
        series[i] = { labels: known.labels, first, count, rawKey: undefined, valid: known };
        continue;
      }
    }
    const valid = cache.getHashed(rows[row + COL_LABELS_HASH]! | 0, r.buf, start, end);
    if (valid !== undefined) table?.set(ids[i]!, valid);
    series[i] =
      valid !== undefined
        ? { labels: valid.labels, first, count, rawKey: undefined, valid }
        : { labels: decodeLabelRange(r, start, end), first, count, rawKey: r.buf.subarray(start, end), valid: undefined };
  }
  return {
    series,
    samples: SamplesBuffer.wrap(scan.timestamps, scan.valueBytes, scan.sampleCount),
    metadata: scan.metadata,
    exemplarCount: scan.exemplarCount,
  };
}

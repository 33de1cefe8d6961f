import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { LabelIdTable, NO_LABEL_ID, WorkerLabelIds } from '../../src/ingest/decode-workers/label-ids.js';
import { LabelCache } from '../../src/ingest/label-cache.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { decodeWriteRequestV1 } from '../../src/ingest/remote-write/decode-v1.js';
import { resolveScannedV1 } from '../../src/ingest/remote-write/resolve-v1.js';
import { scanWriteRequestV1, type ScannedWriteV1 } from '../../src/ingest/remote-write/scan-v1.js';
import type { DecodedWrite } from '../../src/ingest/types.js';
import { validateWrite } from '../../src/ingest/validate.js';
import { encodeV1, ownSamples, seriesOf, v1Series } from './fixtures.js';

const limits = ingestLimits();

function scan(body: Uint8Array): ScannedWriteV1 {
  const scanned = scanWriteRequestV1(body);
  if (scanned === undefined) throw new Error('body cannot be scanned');
  return scanned;
}

function request(names: readonly string[], timestamp = 1000): Uint8Array {
  return encodeV1(names.map((name) => v1Series({ labels: { __name__: name, job: 'node' }, samples: [{ value: 1, timestamp }] })));
}

/** Labels and samples validation hands to storage, or the error it throws. */
function outcome(decoded: DecodedWrite, cache: LabelCache | undefined): string {
  try {
    return JSON.stringify(seriesOf(validateWrite(decoded, limits, cache)).map(ownSamples).map((a) => [a.labels, Array.from(a.timestamps), Array.from(a.values)]));
  } catch (err) {
    if (err instanceof MetricstorError) return `${err.type}: ${err.message}`;
    throw err;
  }
}

describe('ingest: worker label ids', () => {
  it('give equal label bytes the same id, other bytes a new one, and empty label bytes none', () => {
    const ids = new WorkerLabelIds(100);
    const first = ids.assign(scan(request(['a', 'b', 'a'])));
    expect(Array.from(first)).to.deep.equal([0, 1, 0]);
    expect(Array.from(ids.assign(scan(request(['b', 'c']))))).to.deep.equal([1, 2]);
    expect(Array.from(ids.assign(scan(encodeV1([v1Series({ labels: {}, samples: [] })]))))).to.deep.equal([NO_LABEL_ID]);
    expect(ids.generation).to.equal(0);
  });

  it('start a new generation before a request whose series might not fit, never within one', () => {
    const ids = new WorkerLabelIds(4);
    expect(Array.from(ids.assign(scan(request(['a', 'b', 'c']))))).to.deep.equal([0, 1, 2]);
    expect(Array.from(ids.assign(scan(request(['a', 'd']))))).to.deep.equal([0, 1]);
    expect(ids.generation).to.equal(1);
    expect(Array.from(ids.assign(scan(request(['e', 'f', 'g', 'h', 'i']))))).to.deep.equal([0, 1, 2, 3, 4]);
    expect(ids.generation).to.equal(2);
  });

  it('resolve through the table as the plain decoder does, across worker generations and cache rotations', () => {
    const names = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const workerIds = new WorkerLabelIds(8);
    const table = new LabelIdTable();
    const tableCache = new LabelCache(6);
    const plainCache = new LabelCache(6);
    for (let round = 0; round < 30; round++) {
      const picked = [names[round % 12]!, names[(round * 5) % 12]!, names[(round * 7 + 3) % 12]!, names[round % 12]!];
      const body = request(picked, 1000 + round);
      const scanned = scan(body);
      const ids = workerIds.assign(scanned);
      const viaTable = resolveScannedV1(scanned, tableCache, { ids, generation: workerIds.generation, table });
      const plain = decodeWriteRequestV1(body, plainCache);
      expect(viaTable.series.map((s) => s.labels)).to.deep.equal(plain.series.map((s) => s.labels));
      expect(outcome(viaTable, tableCache), `round ${round}`).to.equal(outcome(plain, plainCache));
    }
    expect(workerIds.generation).to.be.greaterThan(2);
  });

  it('serve a set from the table only after the cache has validated it; an invalid set fails every time', () => {
    const workerIds = new WorkerLabelIds();
    const table = new LabelIdTable();
    const cache = new LabelCache();
    const invalid = encodeV1([
      v1Series({ labels: { __name__: 'up' }, samples: [{ value: 1, timestamp: 1 }] }),
      v1Series({ labels: { __name__: 'bad-name' }, samples: [{ value: 1, timestamp: 1 }] }),
    ]);
    for (let round = 0; round < 3; round++) {
      const scanned = scan(invalid);
      const decoded = resolveScannedV1(scanned, cache, { ids: workerIds.assign(scanned), generation: workerIds.generation, table });
      expect(decoded.series[1]!.valid).to.equal(undefined);
      expect(outcome(decoded, cache)).to.equal('bad_data: series bad-name: invalid metric name "bad-name"');
    }
    expect(table.get(0)).to.not.equal(undefined);
    expect(table.get(1)).to.equal(undefined);
  });

  it('a table refuses a reply older than it holds and drops what it holds for a newer one or another cache', () => {
    const cache = new LabelCache(2);
    const table = new LabelIdTable();
    expect(table.open(3, cache)).to.equal(true);
    table.set(0, { labels: [], key: 'k' });
    expect(table.open(2, cache)).to.equal(false);
    expect(table.open(3, cache)).to.equal(true);
    expect(table.get(0)).to.not.equal(undefined);
    expect(table.open(3, new LabelCache(2))).to.equal(true);
    expect(table.get(0)).to.equal(undefined);
    table.set(5, { labels: [], key: 'k' });
    expect(table.open(4, cache)).to.equal(true);
    expect(table.get(5)).to.equal(undefined);
  });
});

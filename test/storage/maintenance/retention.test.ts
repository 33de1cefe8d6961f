import { expect } from 'chai';
import { toHex } from '../../../src/kv/bytes.js';
import type { KvOp } from '../../../src/kv/kv.js';
import { MemoryKv } from '../../../src/kv/memory.js';
import { DAY_MS, WINDOW_MS, chunkKey, labelNameKey, postingKey, seriesKey } from '../../../src/storage/keys.js';
import { RetentionJob, applyRetention } from '../../../src/storage/maintenance/retention.js';
import { FakeClock } from './fake-clock.js';
import { indexSeries, keysOf, labels, putRawChunk, sidOf } from './fixture.js';

const HOUR_MS = 3_600_000;
const NOW_MS = 100 * DAY_MS + 12 * HOUR_MS;
const RETENTION_MS = 10 * DAY_MS;
/** now - retention = day 90, 12:00, itself the start of a window. */
const CUTOFF_MS = NOW_MS - RETENTION_MS;
const CHUNK = Uint8Array.of(1, 0, 1, 2, 3);

const OLD = labels({ __name__: 'old_metric', job: 'a' });
const SPANNING = labels({ __name__: 'spanning', job: 'a' });
const PENDING = labels({ __name__: 'pending', job: 'b' });

/** Builds a store holding series of every kind retention must tell apart. */
async function populate(kv: MemoryKv): Promise<void> {
  const old = await indexSeries(kv, OLD, [80, 81]);
  await putRawChunk(kv, old, 80 * DAY_MS, 7n, 1n, CHUNK);
  await putRawChunk(kv, old, 81 * DAY_MS + 22 * HOUR_MS, 7n, 2n, CHUNK);
  await putRawChunk(kv, old, 81 * DAY_MS + 22 * HOUR_MS, 8n, 1n, CHUNK);

  const spanning = await indexSeries(kv, SPANNING, [89, 90, 91]);
  await putRawChunk(kv, spanning, 89 * DAY_MS, 7n, 1n, CHUNK);
  await putRawChunk(kv, spanning, 90 * DAY_MS + 10 * HOUR_MS, 7n, 2n, CHUNK);
  await putRawChunk(kv, spanning, CUTOFF_MS, 7n, 3n, CHUNK);
  await putRawChunk(kv, spanning, 91 * DAY_MS, 7n, 4n, CHUNK);

  // Samples only in write-ahead records so far: no chunks, but postings of today.
  await indexSeries(kv, PENDING, [85, 100]);

  // A chunk whose series key is gone.
  await putRawChunk(kv, 42n, 70 * DAY_MS, 7n, 1n, CHUNK);
}

async function snapshot(kv: MemoryKv): Promise<string[]> {
  const out: string[] = [];
  for (const ns of ['C', 'I', 'N', 'S', 'V']) for (const k of await keysOf(kv, ns)) out.push(toHex(k));
  return out;
}

describe('storage/maintenance/retention', () => {
  it('deletes exactly what lies entirely before the cutoff', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    const summary = await applyRetention(kv, { cutoffMs: CUTOFF_MS, nowMs: NOW_MS });
    expect(summary.complete).to.equal(true);

    const spanning = sidOf(SPANNING);
    const pending = sidOf(PENDING);
    const chunks = (await keysOf(kv, 'C')).map(toHex);
    expect(chunks).to.deep.equal(
      [chunkKey(spanning, CUTOFF_MS, 7n, 3n), chunkKey(spanning, 91 * DAY_MS, 7n, 4n)].map(toHex).sort(),
    );
    expect(summary.chunksDeleted).to.equal(6);

    const series = (await keysOf(kv, 'S')).map(toHex).sort();
    expect(series).to.deep.equal([seriesKey(spanning), seriesKey(pending)].map(toHex).sort());
    expect(summary.seriesDeleted).to.equal(1);

    const postings = (await keysOf(kv, 'I')).map(toHex).sort();
    const expected: string[] = [];
    for (const day of [90, 91]) for (const l of SPANNING) expected.push(toHex(postingKey(day, l.name, l.value, spanning)));
    for (const l of PENDING) expected.push(toHex(postingKey(100, l.name, l.value, pending)));
    expect(postings).to.deep.equal(expected.sort());

    const names = (await keysOf(kv, 'N')).map(toHex).sort();
    expect(names).to.deep.equal(
      [90, 91, 100].flatMap((d) => ['__name__', 'job'].map((n) => toHex(labelNameKey(d, n)))).sort(),
    );
    expect((await keysOf(kv, 'V')).length).to.equal(6);
  });

  it('is idempotent: a second pass finds nothing to do', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    await applyRetention(kv, { cutoffMs: CUTOFF_MS, nowMs: NOW_MS });
    const before = await snapshot(kv);
    const again = await applyRetention(kv, { cutoffMs: CUTOFF_MS, nowMs: NOW_MS });
    expect(again).to.include({ chunksDeleted: 0, seriesDeleted: 0, postingsDeleted: 0, labelValuesDeleted: 0, labelNamesDeleted: 0 });
    expect(await snapshot(kv)).to.deep.equal(before);
  });

  it('works in bounded batches and reaches the same end state when interrupted at every page', async () => {
    const reference = new MemoryKv();
    await populate(reference);
    await applyRetention(reference, { cutoffMs: CUTOFF_MS, nowMs: NOW_MS });

    const kv = new MemoryKv();
    await populate(kv);
    const batchSizes: number[] = [];
    const batch = kv.batch.bind(kv);
    kv.batch = async (ops: readonly KvOp[]) => {
      batchSizes.push(ops.length);
      return batch(ops);
    };
    let passes = 0;
    let complete = false;
    while (!complete && passes < 100) {
      passes++;
      let checks = 0;
      const summary = await applyRetention(kv, { cutoffMs: CUTOFF_MS, nowMs: NOW_MS, pageSize: 2, shouldContinue: () => checks++ < 1 });
      complete = summary.complete;
    }
    expect(complete).to.equal(true);
    expect(passes).to.be.greaterThan(3);
    expect(Math.max(...batchSizes)).to.be.at.most(2);
    expect(await snapshot(kv)).to.deep.equal(await snapshot(reference));
  });

  it('keeps everything when nothing is older than the cutoff', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    const before = await snapshot(kv);
    const summary = await applyRetention(kv, { cutoffMs: 70 * DAY_MS, nowMs: NOW_MS });
    expect(summary.chunksDeleted + summary.seriesDeleted + summary.postingsDeleted).to.equal(0);
    expect(await snapshot(kv)).to.deep.equal(before);
  });

  it('refuses a retention period that would delete everything', () => {
    const kv = new MemoryKv();
    for (const retentionMs of [0, -DAY_MS, Number.NaN]) {
      expect(() => new RetentionJob({ kv, retentionMs })).to.throw(/retention must be positive/);
    }
  });

  it('runs as a job with the cutoff taken from the clock and the retention period', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    const clock = new FakeClock(NOW_MS + WINDOW_MS);
    const job = new RetentionJob({ kv, retentionMs: RETENTION_MS, clock });
    const summary = await job.run({ startedAtMs: clock.nowMs(), shouldContinue: () => true });
    expect(summary.cutoffMs).to.equal(CUTOFF_MS + WINDOW_MS);
    // One more window of the spanning series is now entirely past the cutoff.
    expect((await keysOf(kv, 'C')).map(toHex)).to.deep.equal([toHex(chunkKey(sidOf(SPANNING), 91 * DAY_MS, 7n, 4n))]);
  });
});

import { expect } from 'chai';
import { MetricstorError } from '../../../src/errors.js';
import { toHex } from '../../../src/kv/bytes.js';
import type { KvOp } from '../../../src/kv/kv.js';
import { MemoryKv } from '../../../src/kv/memory.js';
import type { Matcher } from '../../../src/model/matchers.js';
import { DAY_MS, WINDOW_MS, labelNameKey, labelValueKey, postingKey, seriesKey } from '../../../src/storage/keys.js';
import { deleteSeriesData } from '../../../src/storage/maintenance/delete.js';
import { SeriesIndex } from '../../../src/storage/series-index.js';
import type { RawSample } from './fixture.js';
import { indexSeries, keysOf, labels, putChunk, rawOf } from './fixture.js';
import { referenceRead } from './reference-read.js';

const DAY = 20_000;
const D0 = DAY * DAY_MS;
const NOW_MS = D0 + 3 * DAY_MS + 12 * 3_600_000;
const WRITER_A = 0xaaaan;
const WRITER_B = 0xbbbbn;

const CPU_A = labels({ __name__: 'cpu', job: 'node', instance: 'a' });
const CPU_B = labels({ __name__: 'cpu', job: 'node', instance: 'b' });
const MEM_A = labels({ __name__: 'mem', job: 'node', instance: 'a' });

function eq(name: string, value: string): Matcher {
  return { type: '=', name, value };
}

function scrape(fromMs: number, count: number, stepMs: number, base: number): RawSample[] {
  return Array.from({ length: count }, (_, i) => rawOf(fromMs + i * stepMs, base + i));
}

/** Three series over days D0..D0+2 (and CPU_A today), in 120-sample chunks of two writers. */
async function populate(kv: MemoryKv): Promise<Map<string, bigint>> {
  const sids = new Map<string, bigint>();
  for (const [name, ls] of [['cpu_a', CPU_A], ['cpu_b', CPU_B], ['mem_a', MEM_A]] as const) {
    const days = name === 'cpu_a' ? [DAY, DAY + 1, DAY + 2, DAY + 3] : [DAY, DAY + 1, DAY + 2];
    const sid = await indexSeries(kv, ls, days);
    sids.set(name, sid);
    let seq = 1n;
    for (let d = 0; d < days.length; d++) {
      // Two windows a day: 00:00 and 02:00, 120 samples at 60 s each, plus an overlapping second writer.
      for (const w of [0, 1]) {
        const start = D0 + d * DAY_MS + w * WINDOW_MS;
        await putChunk(kv, sid, WRITER_A, seq++, scrape(start, 120, 60_000, d * 1000));
        await putChunk(kv, sid, WRITER_B, seq++, scrape(start + 30_000, 100, 60_000, -d));
      }
    }
  }
  return sids;
}

async function chunkValues(kv: MemoryKv): Promise<Map<string, string>> {
  const page = await kv.scan({ start: Uint8Array.of(0x43), end: Uint8Array.of(0x44), limit: 100_000 });
  return new Map(page.entries.map((e) => [toHex(e.key), toHex(e.value)]));
}

async function snapshot(kv: MemoryKv): Promise<string[]> {
  const out: string[] = [];
  for (const ns of ['C', 'I', 'N', 'S', 'V']) for (const k of await keysOf(kv, ns)) out.push(`${ns}${toHex(k)}`);
  return out;
}

describe('storage/maintenance/delete', () => {
  it('deletes a whole series with its index keys, keeping those other series still use', async () => {
    const kv = new MemoryKv();
    const sids = await populate(kv);
    const memBefore = await referenceRead(kv, sids.get('mem_a')!);
    const index = new SeriesIndex(kv);
    const summary = await deleteSeriesData(
      kv,
      index,
      { matcherSets: [[eq('__name__', 'cpu'), eq('instance', 'b')]], startMs: -Infinity, endMs: Infinity },
      { nowMs: NOW_MS },
    );
    const cpuB = sids.get('cpu_b')!;
    expect(summary).to.include({ seriesMatched: 1, chunksDeleted: 12, chunksRewritten: 0, seriesDeleted: 1 });
    expect(summary.samplesDeleted).to.equal(3 * 2 * 220);
    expect(await referenceRead(kv, cpuB)).to.deep.equal([]);
    expect(await kv.get(seriesKey(cpuB))).to.equal(null);
    for (let d = DAY; d <= DAY + 2; d++) {
      for (const l of CPU_B) expect(await kv.get(postingKey(d, l.name, l.value, cpuB))).to.equal(null);
      // instance="b" was only this series'; cpu, job and instance (the name) are still used.
      expect(await kv.get(labelValueKey(d, 'instance', 'b'))).to.equal(null);
      expect(await kv.get(labelValueKey(d, 'instance', 'a'))).to.not.equal(null);
      expect(await kv.get(labelValueKey(d, '__name__', 'cpu'))).to.not.equal(null);
      expect(await kv.get(labelNameKey(d, 'instance'))).to.not.equal(null);
    }
    expect(await referenceRead(kv, sids.get('mem_a')!)).to.deep.equal(memBefore);
    expect(await index.select([eq('__name__', 'cpu')], D0, NOW_MS)).to.have.length(1);
  });

  it('removes only the samples inside the range, re-encoding chunks that straddle its bounds', async () => {
    const kv = new MemoryKv();
    const sids = await populate(kv);
    const sid = sids.get('mem_a')!;
    const before = await referenceRead(kv, sid);
    const chunksBefore = await chunkValues(kv);
    const startMs = D0 + DAY_MS + 30 * 60_000 + 15_000;
    const endMs = D0 + DAY_MS + WINDOW_MS + 10 * 60_000;
    const summary = await deleteSeriesData(
      kv,
      new SeriesIndex(kv),
      { matcherSets: [[eq('__name__', 'mem')]], startMs, endMs },
      { nowMs: NOW_MS },
    );
    expect(await referenceRead(kv, sid)).to.deep.equal(before.filter((s) => s.t < startMs || s.t > endMs));
    expect(summary.chunksRewritten).to.equal(4);
    expect(summary.chunksDeleted).to.equal(0);
    expect(summary.samplesDeleted).to.equal(before.length - (await referenceRead(kv, sid)).length);
    // Re-encoded chunks get new keys: no key holds other bytes than before.
    const chunksAfter = await chunkValues(kv);
    for (const [key, value] of chunksAfter) if (chunksBefore.has(key)) expect(value).to.equal(chunksBefore.get(key));
    expect([...chunksAfter.keys()].filter((k) => !chunksBefore.has(k))).to.have.length(4);
    // The day still has chunks, so its index stays.
    expect(summary).to.include({ postingsDeleted: 0, seriesDeleted: 0 });
  });

  it('drops the postings of a day left without chunks, but keeps the series', async () => {
    const kv = new MemoryKv();
    const sids = await populate(kv);
    const sid = sids.get('mem_a')!;
    const summary = await deleteSeriesData(
      kv,
      new SeriesIndex(kv),
      { matcherSets: [[eq('__name__', 'mem')]], startMs: D0 + DAY_MS, endMs: D0 + 2 * DAY_MS - 1 },
      { nowMs: NOW_MS },
    );
    expect(summary).to.include({ chunksDeleted: 4, postingsDeleted: 3, labelValuesDeleted: 1, labelNamesDeleted: 0, seriesDeleted: 0 });
    expect(await kv.get(postingKey(DAY + 1, 'instance', 'a', sid))).to.equal(null);
    expect(await kv.get(postingKey(DAY, 'instance', 'a', sid))).to.not.equal(null);
    expect(await kv.get(labelValueKey(DAY + 1, '__name__', 'mem'))).to.equal(null);
    expect(await kv.get(seriesKey(sid))).to.not.equal(null);
  });

  it('drops a label value that only the deleted series shared, in one batch or in many', async () => {
    for (const pageSize of [1000, 1]) {
      const kv = new MemoryKv();
      await populate(kv);
      const summary = await deleteSeriesData(
        kv,
        new SeriesIndex(kv),
        { matcherSets: [[eq('__name__', 'cpu')]], startMs: D0 + DAY_MS, endMs: D0 + 2 * DAY_MS - 1 },
        { nowMs: NOW_MS, pageSize },
      );
      expect(summary, `page size ${pageSize}`).to.include({ postingsDeleted: 6, labelValuesDeleted: 2, labelNamesDeleted: 0 });
      expect(await kv.get(labelValueKey(DAY + 1, '__name__', 'cpu'))).to.equal(null);
      expect(await kv.get(labelValueKey(DAY + 1, 'instance', 'b'))).to.equal(null);
      expect(await kv.get(labelValueKey(DAY + 1, 'instance', 'a'))).to.not.equal(null);
      expect(await kv.get(labelValueKey(DAY, '__name__', 'cpu'))).to.not.equal(null);
      expect(await kv.get(labelValueKey(DAY + 2, '__name__', 'cpu'))).to.not.equal(null);
    }
  });

  it('keeps the index of days still being written, and so the series key', async () => {
    const kv = new MemoryKv();
    const sids = await populate(kv);
    const sid = sids.get('cpu_a')!;
    await deleteSeriesData(
      kv,
      new SeriesIndex(kv),
      { matcherSets: [[eq('instance', 'a'), eq('__name__', 'cpu')]], startMs: -Infinity, endMs: Infinity },
      { nowMs: NOW_MS },
    );
    expect(await referenceRead(kv, sid)).to.deep.equal([]);
    expect(await kv.get(postingKey(DAY + 2, 'instance', 'a', sid))).to.equal(null);
    expect(await kv.get(postingKey(DAY + 3, 'instance', 'a', sid))).to.not.equal(null);
    expect(await kv.get(seriesKey(sid))).to.not.equal(null);
  });

  it('unions matcher sets and leaves other series alone', async () => {
    const kv = new MemoryKv();
    const sids = await populate(kv);
    const cpuA = await referenceRead(kv, sids.get('cpu_a')!);
    const summary = await deleteSeriesData(
      kv,
      new SeriesIndex(kv),
      { matcherSets: [[eq('instance', 'b')], [eq('__name__', 'mem')], [eq('__name__', 'nothing')]], startMs: D0, endMs: D0 + 3 * DAY_MS },
      { nowMs: NOW_MS },
    );
    expect(summary.seriesMatched).to.equal(2);
    expect(await referenceRead(kv, sids.get('cpu_b')!)).to.deep.equal([]);
    expect(await referenceRead(kv, sids.get('mem_a')!)).to.deep.equal([]);
    expect(await referenceRead(kv, sids.get('cpu_a')!)).to.deep.equal(cpuA);
  });

  it('is idempotent, and a request interrupted by a KV failure completes when sent again', async () => {
    const request = { matcherSets: [[eq('job', 'node')]], startMs: D0 + 3_600_000, endMs: D0 + DAY_MS + WINDOW_MS };
    const reference = new MemoryKv();
    await populate(reference);
    await deleteSeriesData(reference, new SeriesIndex(reference), request, { nowMs: NOW_MS });
    const done = await snapshot(reference);
    const again = await deleteSeriesData(reference, new SeriesIndex(reference), request, { nowMs: NOW_MS });
    expect(again).to.include({ samplesDeleted: 0, chunksDeleted: 0, chunksRewritten: 0, postingsDeleted: 0, seriesDeleted: 0 });
    expect(await snapshot(reference)).to.deep.equal(done);

    for (const failAt of [1, 3, 5, 7]) {
      const kv = new MemoryKv();
      await populate(kv);
      let batches = 0;
      const batch = kv.batch.bind(kv);
      kv.batch = async (ops: readonly KvOp[]) => {
        if (++batches === failAt) throw new MetricstorError('unavailable', 'injected failure');
        return batch(ops);
      };
      let failed = false;
      try {
        await deleteSeriesData(kv, new SeriesIndex(kv), request, { nowMs: NOW_MS, pageSize: 3 });
      } catch (err) {
        failed = err instanceof MetricstorError && err.type === 'unavailable';
      }
      expect(failed, `failure injected at batch ${failAt}`).to.equal(true);
      await deleteSeriesData(kv, new SeriesIndex(kv), request, { nowMs: NOW_MS, pageSize: 3 });
      expect(await snapshot(kv)).to.deep.equal(done);
    }
  });

  it('refuses a request without matchers', async () => {
    const kv = new MemoryKv();
    let caught: unknown;
    try {
      await deleteSeriesData(kv, new SeriesIndex(kv), { matcherSets: [], startMs: 0, endMs: 1 }, { nowMs: NOW_MS });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(MetricstorError);
    expect((caught as MetricstorError).type).to.equal('bad_data');
  });
});

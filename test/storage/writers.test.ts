import { expect } from 'chai';
import { prefixEnd } from '../../src/kv/bytes.js';
import { MemoryKv } from '../../src/kv/memory.js';
import type { KvEntry, KvStore } from '../../src/kv/kv.js';
import { Storage } from '../../src/storage/index.js';
import { decodeChunkHeader, decodeChunkKey, NS_CHUNK, NS_SERIES, NS_WAL, decodeSeriesKey } from '../../src/storage/keys.js';
import { decodeLabels } from '../../src/storage/labels-codec.js';
import { ManualClock, lbls, pairs, series } from './helpers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 1_700_000_000_000;
const UP = [{ type: '=' as const, name: '__name__', value: 'up' }];

async function family(kv: KvStore, ns: number): Promise<KvEntry[]> {
  const start = Uint8Array.of(ns);
  return (await kv.scan({ start, end: prefixEnd(start), limit: 100_000 })).entries;
}

async function readUp(s: Storage, startMs = T0 - 1e9, endMs = T0 + 1e9): Promise<[number, number][]> {
  const got = await s.select({ matchers: UP, startMs, endMs });
  return got.length === 0 ? [] : pairs(got[0]!);
}

describe('storage with many writers on one KV', () => {
  it('merges the chunks of two write-through writers, both ways', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 1n });
    const b = await Storage.open(kv, { clock, writerId: 2n });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1], [T0 + 2000, 1]])]));
    await b.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 1000, 0], [T0 + 2000, 1], [T0 + 3000, 0]])]));
    const want = [[T0, 1], [T0 + 1000, 0], [T0 + 2000, 1], [T0 + 3000, 0]];
    expect(await readUp(a)).to.deep.equal(want);
    expect(await readUp(b)).to.deep.equal(want);
    const writers = new Set((await family(kv, NS_CHUNK)).map((e) => decodeChunkKey(e.key).writer));
    expect([...writers].sort()).to.deep.equal([1n, 2n]);
    await a.close();
    await b.close();
  });

  it('resolves conflicting values at one timestamp the same way on every node', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 1n });
    const b = await Storage.open(kv, { clock, writerId: 2n });
    // raw bits compared unsigned: -1 (0xbff0...) > 2 (0x4000...) > 1 (0x3ff0...)
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1], [T0 + 1, -1]])]));
    await b.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 2], [T0 + 1, 2]])]));
    expect(await readUp(a)).to.deep.equal([[T0, 2], [T0 + 1, -1]]);
    expect(await readUp(b)).to.deep.equal([[T0, 2], [T0 + 1, -1]]);
    await a.close();
    await b.close();
  });

  it('under buffered, shows a writer’s open chunks to others after its flush', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 1n, headFlush: { intervalMs: 3_600_000 } });
    const b = await Storage.open(kv, { clock, writerId: 2n, headFlush: { intervalMs: 3_600_000 } });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    expect(await readUp(a)).to.deep.equal([[T0, 1]]);
    expect(await readUp(b)).to.deep.equal([]);
    expect(await family(kv, NS_WAL)).to.have.length(1);
    await a.flush();
    expect(await readUp(b)).to.deep.equal([[T0, 1]]);
    expect(await family(kv, NS_WAL)).to.have.length(0);
    await a.close();
    await b.close();
  });
});

describe('storage series id collisions', () => {
  const collide = (): { hi: number; lo: number } => ({ hi: 0, lo: 42 });

  it('gives colliding label sets their own ids and never merges them', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const s = await Storage.open(kv, { clock, writerId: 1n, hasher: collide });
    await s.append(appendBatchOf([series({ __name__: 'up', i: '1' }, [[T0, 1]]), series({ __name__: 'up', i: '2' }, [[T0, 2]])]));
    await s.append(appendBatchOf([series({ __name__: 'up', i: '3' }, [[T0, 3]]), series({ __name__: 'up', i: '1' }, [[T0 + 1, 1]])]));
    const stored = (await family(kv, NS_SERIES)).map((e) => [decodeSeriesKey(e.key), decodeLabels(e.value)]);
    expect(stored).to.deep.equal([
      [42n, lbls({ __name__: 'up', i: '1' })],
      [43n, lbls({ __name__: 'up', i: '2' })],
      [44n, lbls({ __name__: 'up', i: '3' })],
    ]);
    const got = await s.select({ matchers: UP, startMs: T0, endMs: T0 + 1 });
    expect(got.map((g) => [g.labels, pairs(g)])).to.deep.equal([
      [lbls({ __name__: 'up', i: '1' }), [[T0, 1], [T0 + 1, 1]]],
      [lbls({ __name__: 'up', i: '2' }), [[T0, 2]]],
      [lbls({ __name__: 'up', i: '3' }), [[T0, 3]]],
    ]);
    // a fresh node (empty caches) finds the same ids by probing
    const t = await Storage.open(kv, { clock, writerId: 2n, hasher: collide });
    await t.append(appendBatchOf([series({ __name__: 'up', i: '2' }, [[T0 + 5, 5]]), series({ __name__: 'up', i: '4' }, [[T0 + 5, 4]])]));
    expect((await family(kv, NS_SERIES)).map((e) => decodeSeriesKey(e.key))).to.deep.equal([42n, 43n, 44n, 45n]);
    const i2 = await t.select({ matchers: [{ type: '=', name: 'i', value: '2' }], startMs: T0, endMs: T0 + 5 });
    expect(pairs(i2[0]!)).to.deep.equal([[T0, 2], [T0 + 5, 5]]);
    await s.close();
    await t.close();
  });

  it('lets two nodes racing for one id each end up with their own', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 1n, hasher: collide });
    const b = await Storage.open(kv, { clock, writerId: 2n, hasher: collide });
    await Promise.all([
      a.append(appendBatchOf([series({ __name__: 'up', n: 'a' }, [[T0, 1]])])),
      b.append(appendBatchOf([series({ __name__: 'up', n: 'b' }, [[T0, 2]])])),
    ]);
    const stored = (await family(kv, NS_SERIES)).map((e) => decodeLabels(e.value));
    expect(stored).to.have.length(2);
    expect(stored.map((l) => l[1]!.value).sort()).to.deep.equal(['a', 'b']);
    for (const [name, v] of [['a', 1], ['b', 2]] as const) {
      const got = await a.select({ matchers: [{ type: '=', name: 'n', value: name }], startMs: T0, endMs: T0 });
      expect(pairs(got[0]!)).to.deep.equal([[T0, v]]);
    }
    await a.close();
    await b.close();
  });
});

describe('storage recovery without close', () => {
  const buffered = { intervalMs: 3_600_000 };

  it('replays its own write-ahead records when the same writer reopens', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 5n, headFlush: buffered });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1], [T0 + 1000, 2]])]));
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 2000, 3]]), series({ __name__: 'other' }, [[T0, 9]])]));
    a.abandon();
    expect(await family(kv, NS_CHUNK)).to.have.length(0);
    const b = await Storage.open(kv, { clock, writerId: 5n, headFlush: buffered });
    expect(await family(kv, NS_WAL)).to.have.length(0);
    expect(await readUp(b)).to.deep.equal([[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]);
    await b.close();
  });

  it('adopts the records of another writer once its lease expires', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 5n, headFlush: buffered, writerLeaseTtlMs: 10_000 });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    a.abandon();
    const b = await Storage.open(kv, { clock, writerId: 6n, headFlush: buffered, writerLeaseTtlMs: 10_000, orphanCheckMs: 5_000 });
    expect(await family(kv, NS_WAL), 'lease still live').to.have.length(1);
    expect(await readUp(b)).to.deep.equal([]);
    clock.currentMs += 10_001;
    await b.tick();
    expect(await family(kv, NS_WAL)).to.have.length(0);
    expect(await readUp(b)).to.deep.equal([[T0, 1]]);
    const c = await Storage.open(kv, { clock, writerId: 7n });
    expect(await readUp(c), 'durable in chunks, visible to all').to.deep.equal([[T0, 1]]);
    await b.close();
    await c.close();
  });

  it('never overwrites a chunk of its previous life with the same writer id', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const a = await Storage.open(kv, { clock, writerId: 8n });
    await a.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 1000, 1], [T0 + 2000, 2]])]));
    a.abandon();
    const b = await Storage.open(kv, { clock, writerId: 8n });
    await b.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 0], [T0 + 3000, 3]])]));
    expect(await readUp(b)).to.deep.equal([[T0, 0], [T0 + 1000, 1], [T0 + 2000, 2], [T0 + 3000, 3]]);
    expect(await family(kv, NS_CHUNK)).to.have.length(2);
    await b.close(); // a clean close must not reset the incarnation either
    const c = await Storage.open(kv, { clock, writerId: 8n });
    await c.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 500, 0.5]])]));
    expect(await readUp(c)).to.deep.equal([[T0, 0], [T0 + 500, 0.5], [T0 + 1000, 1], [T0 + 2000, 2], [T0 + 3000, 3]]);
    expect(await family(kv, NS_CHUNK)).to.have.length(3);
    await c.close();
  });

  it('closes idle chunks and flushes buffered ones on its timer work', async () => {
    const kv = new MemoryKv();
    const clock = new ManualClock(T0);
    const s = await Storage.open(kv, { clock, writerId: 9n, headFlush: buffered, idleChunkCloseMs: 60_000 });
    await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
    await s.tick();
    let chunks = await family(kv, NS_CHUNK);
    expect(chunks.map((e) => decodeChunkHeader(e.value).closed)).to.deep.equal([false]);
    expect(await family(kv, NS_WAL)).to.have.length(0);
    clock.currentMs += 60_000;
    await s.tick();
    chunks = await family(kv, NS_CHUNK);
    expect(chunks.map((e) => decodeChunkHeader(e.value).closed)).to.deep.equal([true]);
    expect(s.counters.headSeries).to.equal(0);
    expect(await readUp(s)).to.deep.equal([[T0, 1]]);
    expect(await readUp(s)).to.deep.equal([[T0, 1]]);
    expect(s.counters.chunkCacheHits).to.equal(1);
    await s.close();
  });

  it('cuts chunks at 120 samples and at window edges', async () => {
    const kv = new MemoryKv();
    const s = await Storage.open(kv, { clock: new ManualClock(T0), writerId: 10n });
    const w = Math.ceil(T0 / 7_200_000) * 7_200_000;
    const samples: [number, number][] = [];
    for (let i = 0; i < 250; i++) samples.push([w - 10_000 + i * 1000, i]);
    await s.append(appendBatchOf([series({ __name__: 'up' }, samples)]));
    const headers = (await family(kv, NS_CHUNK)).map((e) => [decodeChunkKey(e.key).windowStartMs, decodeChunkHeader(e.value)] as const);
    expect(headers.map(([ws, h]) => [ws, h.minTimeMs, h.maxTimeMs, h.closed])).to.deep.equal([
      [w - 7_200_000, w - 10_000, w - 1000, true],
      [w, w, w + 119_000, true],
      [w, w + 120_000, w + 239_000, false],
    ].sort((x, y) => (x[0]! as number) - (y[0]! as number) || (x[1]! as number) - (y[1]! as number)));
    expect(await readUp(s, 0, 2 * w)).to.deep.equal(samples);
    await s.close();
  });
});

describe('storage metadata', () => {
  it('stores the latest metadata per metric family', async () => {
    const s = await Storage.open(new MemoryKv(), { writerId: 1n });
    await s.putMetadata([
      { metricFamilyName: 'http_requests_total', type: 'counter', help: 'Requests.', unit: '' },
      { metricFamilyName: 'temp', type: 'gauge', help: 'old', unit: 'celsius' },
    ]);
    await s.putMetadata([{ metricFamilyName: 'temp', type: 'gauge', help: 'Temperature.', unit: 'celsius' }]);
    const all = await s.metadata();
    expect([...all.keys()]).to.deep.equal(['http_requests_total', 'temp']);
    expect(all.get('temp')).to.deep.equal([{ metricFamilyName: 'temp', type: 'gauge', help: 'Temperature.', unit: 'celsius' }]);
    expect([...(await s.metadata('temp')).keys()]).to.deep.equal(['temp']);
    expect((await s.metadata('nope')).size).to.equal(0);
    expect([...(await s.metadata(undefined, 1)).keys()]).to.deep.equal(['http_requests_total']);
    await s.close();
  });
});

describe('storage deletion through the writer', () => {
  it('deletes samples still in its own head, under either policy, and accepts new ones after', async () => {
    for (const headFlush of ['write-through', { intervalMs: 3_600_000 }] as const) {
      const kv = new MemoryKv();
      const clock = new ManualClock(T0 + 10 * 86_400_000);
      const s = await Storage.open(kv, { clock, writerId: 1n, headFlush });
      await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]), series({ __name__: 'keep' }, [[T0, 5]])]));
      await s.deleteSeries({ matcherSets: [UP], startMs: T0 + 500, endMs: T0 + 1500 });
      expect(await readUp(s), String(headFlush)).to.deep.equal([[T0, 1], [T0 + 2000, 3]]);
      await s.deleteSeries({ matcherSets: [UP], startMs: 0, endMs: T0 + 1e9 });
      expect(await readUp(s)).to.deep.equal([]);
      await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 1000, 7]])]));
      expect(await readUp(s)).to.deep.equal([[T0 + 1000, 7]]);
      const keep = await s.select({ matchers: [{ type: '=', name: '__name__', value: 'keep' }], startMs: T0, endMs: T0 });
      expect(pairs(keep[0]!)).to.deep.equal([[T0, 5]]);
      await s.close();
    }
  });
});

describe('storage when the KV is unreachable', () => {
  for (const headFlush of ['write-through', { intervalMs: 3_600_000 }] as const) {
    it(`rejects appends with unavailable and recovers afterwards (${typeof headFlush === 'string' ? headFlush : 'buffered'})`, async () => {
      const kv = new MemoryKv();
      const clock = new ManualClock(T0);
      const s = await Storage.open(kv, { clock, writerId: 1n, headFlush });
      await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0, 1]])]));
      kv.setUnavailable(true);
      const err = await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 1000, 2]])])).then(() => null, (e: unknown) => e);
      expect(err).to.have.property('type', 'unavailable');
      const readErr = await readUp(s).then(() => null, (e: unknown) => e);
      expect(readErr).to.have.property('type', 'unavailable');
      kv.setUnavailable(false);
      await s.append(appendBatchOf([series({ __name__: 'up' }, [[T0 + 2000, 3]])]));
      await s.flush();
      // the rejected samples stay in the head and reach the KV with a later batch (at least once)
      const other = await Storage.open(kv, { clock, writerId: 2n });
      expect(await readUp(other)).to.deep.equal([[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]);
      await other.close();
      await s.close();
    });
  }
});

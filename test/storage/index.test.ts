import { expect } from 'chai';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Labels } from '../../src/model/labels.js';
import { compareLabels } from '../../src/model/labels.js';
import type { Matcher } from '../../src/model/matchers.js';
import { Storage } from '../../src/storage/index.js';
import { intersect, sortedPostings, subtract, union, unionAll } from '../../src/storage/postings.js';
import { ManualClock, lbls, series } from './helpers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

describe('storage postings algebra', () => {
  const p = (...ids: number[]): BigUint64Array => sortedPostings(ids.map(BigInt));
  it('intersects, unions and subtracts sorted id lists', () => {
    expect([...intersect(p(1, 3, 5, 7), p(3, 4, 5, 9))]).to.deep.equal([3n, 5n]);
    expect([...union(p(1, 5), p(2, 5, 9))]).to.deep.equal([1n, 2n, 5n, 9n]);
    expect([...unionAll([p(4), p(1, 4), p(), p(3)])]).to.deep.equal([1n, 3n, 4n]);
    expect([...subtract(p(1, 2, 3, 4), p(2, 4, 6))]).to.deep.equal([1n, 3n]);
    const big = sortedPostings([0xffff_ffff_ffff_fff0n, 1n, 0x8000_0000_0000_0000n]);
    expect([...big]).to.deep.equal([1n, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_fff0n]);
  });
});

describe('storage series selection by matchers', () => {
  let storage: Storage;
  const all: Record<string, string>[] = [
    { __name__: 'http_requests', job: 'api', code: '200' },
    { __name__: 'http_requests', job: 'api', code: '500' },
    { __name__: 'http_requests', job: 'web' },
    { __name__: 'cpu', job: 'api', mode: 'idle' },
    { __name__: 'cpu', job: 'node', mode: 'user' },
  ];

  before(async () => {
    storage = await Storage.open(new MemoryKv(), { clock: new ManualClock(T0), writerId: 3n });
    await storage.append(appendBatchOf(all.map((l) => series(l, [[T0, 1]]))));
    await storage.append(appendBatchOf([series({ __name__: 'old_only', job: 'api' }, [[T0 - 10 * DAY, 1]])]));
  });
  after(async () => storage.close());

  const names = async (matchers: Matcher[], startMs = T0, endMs = T0): Promise<Labels[]> =>
    (await storage.series({ matcherSets: [matchers], startMs, endMs }));

  const expectSelected = async (matchers: Matcher[], expected: Record<string, string>[]): Promise<void> => {
    expect(await names(matchers), JSON.stringify(matchers)).to.deep.equal(expected.map(lbls).sort(compareLabels));
  };

  it('selects by equality and inequality', async () => {
    await expectSelected([{ type: '=', name: '__name__', value: 'cpu' }], [all[3]!, all[4]!]);
    await expectSelected(
      [{ type: '=', name: '__name__', value: 'http_requests' }, { type: '!=', name: 'code', value: '200' }],
      [all[1]!, all[2]!],
    );
  });

  it('anchors regular expressions', async () => {
    await expectSelected([{ type: '=~', name: 'job', value: 'ap' }], []);
    await expectSelected([{ type: '=~', name: 'job', value: 'a.*|n.*' }], [all[0]!, all[1]!, all[3]!, all[4]!]);
    await expectSelected(
      [{ type: '=', name: 'job', value: 'api' }, { type: '!~', name: '__name__', value: 'http.*' }],
      [all[3]!],
    );
  });

  it('treats a matcher matching "" as also selecting series without the label', async () => {
    await expectSelected([{ type: '=', name: '__name__', value: 'http_requests' }, { type: '=', name: 'code', value: '' }], [all[2]!]);
    await expectSelected([{ type: '=', name: '__name__', value: 'http_requests' }, { type: '=~', name: 'code', value: '|5..' }], [all[1]!, all[2]!]);
    await expectSelected([{ type: '=', name: '__name__', value: 'http_requests' }, { type: '!=', name: 'code', value: '' }], [all[0]!, all[1]!]);
    await expectSelected([{ type: '=', name: '__name__', value: 'cpu' }, { type: '!~', name: 'mode', value: 'id.*' }], [all[4]!]);
  });

  it('rejects selectors whose every matcher matches the empty string', async () => {
    for (const m of [
      [{ type: '=~', name: 'job', value: '.*' }],
      [{ type: '!=', name: 'job', value: 'x' }],
      [{ type: '=', name: 'nope', value: '' }],
    ] satisfies Matcher[][]) {
      const err = await names(m).then(() => null, (e: unknown) => e);
      expect(err, JSON.stringify(m)).to.have.property('type', 'bad_data');
    }
  });

  it('uses the postings of the days in range only', async () => {
    await expectSelected([{ type: '=', name: 'job', value: 'api' }], [all[0]!, all[1]!, all[3]!]);
    expect(await names([{ type: '=', name: 'job', value: 'api' }], T0 - 11 * DAY, T0)).to.have.length(4);
    expect(await names([{ type: '=', name: '__name__', value: 'old_only' }], T0 - 10 * DAY, T0 - 10 * DAY)).to.have.length(1);
  });

  it('answers label names and values with and without matchers', async () => {
    const q = { matcherSets: [], startMs: T0, endMs: T0 };
    expect(await storage.labelNames(q)).to.deep.equal(['__name__', 'code', 'job', 'mode']);
    expect(await storage.labelValues('job', q)).to.deep.equal(['api', 'node', 'web']);
    expect(await storage.labelValues('job', { ...q, startMs: T0 - 10 * DAY })).to.deep.equal(['api', 'node', 'web']);
    expect(await storage.labelValues('__name__', q)).to.deep.equal(['cpu', 'http_requests']);
    expect(await storage.labelValues('__name__', { ...q, startMs: T0 - 10 * DAY })).to.deep.equal(['cpu', 'http_requests', 'old_only']);
    expect(await storage.labelNames({ ...q, startMs: T0 - 10 * DAY, endMs: T0 - 10 * DAY })).to.deep.equal(['__name__', 'job']);
    const cpu = { ...q, matcherSets: [[{ type: '=', name: '__name__', value: 'cpu' }] satisfies Matcher[]] };
    expect(await storage.labelNames(cpu)).to.deep.equal(['__name__', 'job', 'mode']);
    expect(await storage.labelValues('job', cpu)).to.deep.equal(['api', 'node']);
    expect(await storage.labelValues('job', { ...cpu, limit: 1 })).to.deep.equal(['api']);
    const two = {
      ...q,
      matcherSets: [[{ type: '=', name: 'mode', value: 'idle' }], [{ type: '=', name: 'job', value: 'web' }]] satisfies Matcher[][],
    };
    expect(await storage.series(two)).to.deep.equal([lbls(all[3]!), lbls(all[2]!)]);
    expect(await storage.series({ ...two, limit: 1 })).to.have.length(1);
  });

  it('reports cardinality statistics', async () => {
    const stats = await storage.stats(2);
    expect(stats.numSeries).to.equal(5);
    expect(stats.seriesCountByMetricName).to.deep.equal([{ name: 'http_requests', value: 3 }, { name: 'cpu', value: 2 }]);
    expect(stats.labelValueCountByLabelName).to.deep.equal([{ name: 'job', value: 3 }, { name: '__name__', value: 2 }]);
    expect(stats.seriesCountByLabelValuePair).to.deep.equal([
      { name: '__name__=http_requests', value: 3 },
      { name: 'job=api', value: 3 },
    ]);
  });
});

describe('storage series selection over postings longer than a page', () => {
  let storage: Storage;
  // 2,400 series: job="node" on all, 12 modes on every host, 200 hosts (postings of more than one page)
  const modes = Array.from({ length: 12 }, (_, i) => `m${i}`);
  const hosts = Array.from({ length: 200 }, (_, i) => `h${String(i).padStart(3, '0')}`);
  const all = hosts.flatMap((instance) => modes.map((mode) => ({ __name__: 'cpu', job: 'node', instance, mode })));

  before(async () => {
    storage = await Storage.open(new MemoryKv(), { clock: new ManualClock(T0), writerId: 3n });
    await storage.append(appendBatchOf(all.map((l) => series(l, [[T0, 1]]))));
  });
  after(async () => storage.close());

  const expectSame = async (matchers: Matcher[], keep: (l: Record<string, string>) => boolean): Promise<void> => {
    const got = await storage.series({ matcherSets: [matchers], startMs: T0, endMs: T0 });
    expect(got, JSON.stringify(matchers)).to.deep.equal(all.filter(keep).map(lbls).sort(compareLabels));
  };

  it('intersects a short list with long ones, whatever the order of the matchers', async () => {
    const eq = (name: string, value: string): Matcher => ({ type: '=', name, value });
    await expectSame([eq('job', 'node'), eq('instance', 'h007')], (l) => l.instance === 'h007');
    await expectSame([eq('__name__', 'cpu'), eq('job', 'node'), eq('mode', 'm3'), eq('instance', 'h150')], (l) => l.mode === 'm3' && l.instance === 'h150');
    await expectSame([eq('job', 'node'), eq('__name__', 'cpu')], () => true);
    await expectSame([eq('job', 'node'), eq('mode', 'm1')], (l) => l.mode === 'm1');
    await expectSame([eq('job', 'node'), eq('instance', 'nope')], () => false);
  });

  it('applies regular expressions and negative matchers to many candidates and to few', async () => {
    await expectSame([{ type: '=', name: 'job', value: 'node' }, { type: '=~', name: 'instance', value: 'h00.' }], (l) => l.instance!.startsWith('h00'));
    await expectSame([{ type: '=', name: 'instance', value: 'h042' }, { type: '=~', name: 'mode', value: 'm1.*' }], (l) => l.instance === 'h042' && l.mode!.startsWith('m1'));
    await expectSame([{ type: '=', name: 'job', value: 'node' }, { type: '!=', name: 'mode', value: 'm0' }], (l) => l.mode !== 'm0');
    await expectSame([{ type: '=', name: 'instance', value: 'h001' }, { type: '!~', name: 'mode', value: 'm[0-5]' }], (l) => l.instance === 'h001' && !/^m[0-5]$/.test(l.mode!));
    await expectSame([{ type: '=~', name: 'mode', value: 'm1|m2' }, { type: '!~', name: 'instance', value: 'h1.*' }], (l) => (l.mode === 'm1' || l.mode === 'm2') && !l.instance!.startsWith('h1'));
  });
});

describe('storage label size limit', () => {
  it('refuses a whole append when a new series has a label too long to index, writing nothing', async () => {
    const kv = new MemoryKv();
    const s = await Storage.open(kv, { clock: new ManualClock(T0), writerId: 4n });
    const keysBefore = kv.size;
    const err = await s
      .append(appendBatchOf([series({ __name__: 'ok' }, [[T0, 1]]), series({ __name__: 'long', v: 'x'.repeat(1900) }, [[T0, 1]])]))
      .then(() => null, (e: unknown) => e);
    expect(err).to.have.property('type', 'bad_data');
    expect(kv.size).to.equal(keysBefore);
    await s.append(appendBatchOf([series({ __name__: 'fits', v: 'x'.repeat(1800) }, [[T0, 1]])]));
    expect(await s.labelValues('__name__', { matcherSets: [], startMs: T0, endMs: T0 })).to.deep.equal(['fits']);
    await s.close();
  });
});

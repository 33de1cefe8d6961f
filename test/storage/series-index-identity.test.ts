import { expect } from 'chai';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Labels } from '../../src/model/labels.js';
import { hashLabels } from '../../src/storage/labels-codec.js';
import { SeriesIndex } from '../../src/storage/series-index.js';
import type { SeriesRef } from '../../src/storage/types.js';

function labelsOf(name: string, instance: string): Labels {
  return [
    { name: '__name__', value: name },
    { name: 'instance', value: instance },
  ];
}

describe('storage series index: lookups by label-set identity', () => {
  let hashed = 0;
  const countingHasher = (labels: Labels): ReturnType<typeof hashLabels> => {
    hashed++;
    return hashLabels(labels);
  };
  beforeEach(() => {
    hashed = 0;
  });

  it('finds a label-set object seen before without hashing it again, and an equal copy by hash', async () => {
    const index = new SeriesIndex(new MemoryKv(), { hasher: countingHasher });
    const a = labelsOf('up', 'h1');
    const [first] = await index.resolve([a]);
    const hashesAfterCreate = hashed;
    const [again] = await index.resolve([a]);
    expect(again).to.equal(first);
    expect(hashed).to.equal(hashesAfterCreate);
    const [copy] = await index.resolve([labelsOf('up', 'h1')]);
    expect(copy).to.equal(first);
    expect(hashed).to.equal(hashesAfterCreate + 1);
  });

  it('does not hand out an entry that forget dropped', async () => {
    const index = new SeriesIndex(new MemoryKv(), { hasher: countingHasher });
    const a = labelsOf('up', 'h1');
    const [first] = await index.resolve([a]);
    index.forget([labelsOf('up', 'h1')]);
    expect(first!.dropped).to.equal(true);
    const [after] = await index.resolve([a]);
    expect(after).to.not.equal(first);
    expect(after!.dropped).to.equal(false);
    expect(after!.sid).to.equal(first!.sid);
  });

  it('does not hand out an entry the cache evicted', async () => {
    const index = new SeriesIndex(new MemoryKv(), { maxCachedSeries: 2 });
    const sets = [labelsOf('up', 'h1'), labelsOf('up', 'h2'), labelsOf('up', 'h3')];
    const entries = [];
    for (const s of sets) entries.push((await index.resolve([s]))[0]!);
    expect(entries[0]!.dropped).to.equal(true);
    expect(entries[2]!.dropped).to.equal(false);
    const [back] = await index.resolve([sets[0]!]);
    expect(back).to.not.equal(entries[0]);
    expect(back!.sid).to.equal(entries[0]!.sid);
    // the entry is cached again, under its identity too
    const [backAgain] = await index.resolve([sets[0]!]);
    expect(backAgain).to.equal(back);
  });

  describe('appends that carry a ref', () => {
    it('fill the ref and are resolved from it next time, without a hash', async () => {
      const index = new SeriesIndex(new MemoryKv(), { hasher: countingHasher });
      const ref: SeriesRef = { storage: undefined };
      const a = labelsOf('up', 'h1');
      const [first] = await index.resolveAppends([a], [ref]);
      expect(ref.storage).to.equal(first);
      const hashesAfterCreate = hashed;
      const [again] = await index.resolveAppends([a], [ref]);
      expect(again).to.equal(first);
      expect(hashed).to.equal(hashesAfterCreate);
    });

    it('ignore a ref whose entry forget or eviction dropped, and refill it', async () => {
      const index = new SeriesIndex(new MemoryKv(), { maxCachedSeries: 1 });
      const ref: SeriesRef = { storage: undefined };
      const a = labelsOf('up', 'h1');
      const [first] = await index.resolveAppends([a], [ref]);
      index.forget([labelsOf('up', 'h1')]);
      const [afterForget] = await index.resolveAppends([a], [ref]);
      expect(afterForget).to.not.equal(first);
      expect(ref.storage).to.equal(afterForget);
      await index.resolve([labelsOf('up', 'h2')]); // evicts h1
      expect(afterForget!.dropped).to.equal(true);
      const [afterEviction] = await index.resolveAppends([a], [ref]);
      expect(afterEviction).to.not.equal(afterForget);
      expect(afterEviction!.dropped).to.equal(false);
      expect(afterEviction!.sid).to.equal(first!.sid);
      expect(ref.storage).to.equal(afterEviction);
    });

    it('ignore a ref filled by another index (a storage opened again)', async () => {
      const kv = new MemoryKv();
      const ref: SeriesRef = { storage: undefined };
      const a = labelsOf('up', 'h1');
      const [old] = await new SeriesIndex(kv).resolveAppends([a], [ref]);
      const reopened = new SeriesIndex(kv);
      const [fresh] = await reopened.resolveAppends([a], [ref]);
      expect(fresh).to.not.equal(old);
      expect(fresh!.sid).to.equal(old!.sid);
      expect(ref.storage).to.equal(fresh);
    });
  });
});

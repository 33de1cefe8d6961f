import { expect } from 'chai';
import { MemoryKv } from '../../src/kv/memory.js';
import type { KvOp } from '../../src/kv/kv.js';
import { Committer } from '../../src/storage/committer.js';
import { Head } from '../../src/storage/head.js';
import { NS_WAL, walKey } from '../../src/storage/keys.js';
import { SeriesIndex } from '../../src/storage/series-index.js';

class RecordingKv extends MemoryKv {
  readonly batches: KvOp[][] = [];
  override async batch(ops: readonly KvOp[]): Promise<void> {
    this.batches.push([...ops]);
    await super.batch(ops);
  }
}

describe('storage group commit', () => {
  it('splits a large commit into ordered batches with the write-ahead deletes last', async () => {
    const kv = new RecordingKv();
    const head = new Head(1n, 1);
    const committer = new Committer(kv, head, new SeriesIndex(kv), true, { maxBatchOps: 3, maxBatchBytes: 1e9 });
    await kv.batch([{ type: 'put', key: walKey(9n, 1n), value: Uint8Array.of(1) }]);
    kv.batches.length = 0;
    committer.coverOnFlush([walKey(9n, 1n)]);
    const ops: KvOp[] = Array.from({ length: 7 }, (_, i) => ({ type: 'put', key: Uint8Array.of(0x41, i), value: Uint8Array.of(i) }));
    await committer.commit(ops, [], null, true);
    expect(kv.batches.map((b) => b.length)).to.deep.equal([3, 3, 2]);
    const last = kv.batches[2]![1]!;
    expect(last.type).to.equal('del');
    expect(last.key[0]).to.equal(NS_WAL);
    expect(await kv.get(walKey(9n, 1n))).to.equal(null);
    expect(kv.size).to.equal(7);
  });

  it('groups appends that arrive while a batch is in flight into the next one', async () => {
    const kv = new RecordingKv();
    const committer = new Committer(kv, new Head(1n, 1), new SeriesIndex(kv), true);
    const put = (i: number): KvOp[] => [{ type: 'put', key: Uint8Array.of(0x41, i), value: Uint8Array.of(i) }];
    await Promise.all([1, 2, 3, 4].map((i) => committer.commit(put(i), [], null, false)));
    expect(kv.batches.map((b) => b.length)).to.deep.equal([1, 3]);
  });
});

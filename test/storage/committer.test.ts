import { expect } from 'chai';
import { MemoryKv } from '../../src/kv/memory.js';
import type { KvOp } from '../../src/kv/kv.js';
import { Committer } from '../../src/storage/committer.js';
import { Head } from '../../src/storage/head.js';
import { NS_CHUNK, NS_WAL, decodeChunkKey, walKey } from '../../src/storage/keys.js';
import { SeriesIndex } from '../../src/storage/series-index.js';

class RecordingKv extends MemoryKv {
  readonly batches: KvOp[][] = [];
  override async batch(ops: readonly KvOp[]): Promise<void> {
    this.batches.push([...ops]);
    await super.batch(ops);
  }
}

const T0 = 1_700_000_000_000;

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

  it('writes the chunks of a commit cut into several batches in key order, after the staged ops', async () => {
    const kv = new RecordingKv();
    const head = new Head(1n, 1);
    const committer = new Committer(kv, head, new SeriesIndex(kv), true, { maxBatchOps: 4, maxBatchBytes: 1e9 });
    const sids = [9n, 3n, 7n, 1n, 8n, 2n, 6n, 4n, 5n];
    for (const sid of sids) head.append(head.getOrCreate(sid), [T0], new Float64Array([1]), T0);
    const staged: KvOp[] = [2, 1].map((i) => ({ type: 'put', key: Uint8Array.of(0x49, i), value: new Uint8Array(0) }));
    await committer.commit(staged, [], null, true);
    const written = kv.batches.flat();
    expect(written.slice(0, 2).map((op) => op.key[1])).to.deep.equal([2, 1]);
    const chunks = written.slice(2);
    expect(chunks.every((op) => op.key[0] === NS_CHUNK)).to.equal(true);
    expect(chunks.map((op) => decodeChunkKey(op.key).sid)).to.deep.equal([...sids].sort((x, y) => Number(x - y)));
    expect(kv.batches.map((b) => b.length)).to.deep.equal([4, 4, 3]);
  });

  it('keeps a commit that fits one batch in the order it was staged', async () => {
    const kv = new RecordingKv();
    const head = new Head(1n, 1);
    const committer = new Committer(kv, head, new SeriesIndex(kv), true, { maxBatchOps: 100, maxBatchBytes: 1e9 });
    for (const sid of [3n, 1n, 2n]) head.append(head.getOrCreate(sid), [T0], new Float64Array([1]), T0);
    await committer.commit([], [], null, true);
    expect(kv.batches.map((b) => b.map((op) => decodeChunkKey(op.key).sid))).to.deep.equal([[3n, 1n, 2n]]);
  });

  it('takes the smaller batch limits a backend asks for', async () => {
    const kv = new (class extends RecordingKv {
      readonly batchLimits = { maxBatchOps: 2, maxBatchBytes: 1e9 };
    })();
    const committer = new Committer(kv, new Head(1n, 1), new SeriesIndex(kv), true, { maxBatchOps: 3, maxBatchBytes: 1e9 });
    const ops: KvOp[] = [0, 1, 2, 3, 4].map((i) => ({ type: 'put', key: Uint8Array.of(0x41, i), value: Uint8Array.of(i) }));
    await committer.commit(ops, [], null, true);
    expect(kv.batches.map((b) => b.length)).to.deep.equal([2, 2, 1]);
  });

  it('groups appends that arrive while a batch is in flight into the next one', async () => {
    const kv = new RecordingKv();
    const committer = new Committer(kv, new Head(1n, 1), new SeriesIndex(kv), true);
    const put = (i: number): KvOp[] => [{ type: 'put', key: Uint8Array.of(0x41, i), value: Uint8Array.of(i) }];
    await Promise.all([1, 2, 3, 4].map((i) => committer.commit(put(i), [], null, false)));
    expect(kv.batches.map((b) => b.length)).to.deep.equal([1, 3]);
  });
});

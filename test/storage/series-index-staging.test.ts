import { expect } from 'chai';
import type { KvOp } from '../../src/kv/kv.js';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Labels } from '../../src/model/labels.js';
import { NS_LABEL_NAME, NS_LABEL_VALUE, NS_POSTING } from '../../src/storage/keys.js';
import { SeriesIndex, type IndexMarks } from '../../src/storage/series-index.js';

const DAY = 20_000;

function hostLabels(i: number): Labels {
  return [
    { name: '__name__', value: 'node_load1' },
    { name: 'instance', value: `host-${i % 3}` },
    { name: 'job', value: 'node' },
  ];
}

function counts(ops: readonly KvOp[]): { postings: number; values: number; names: number } {
  const of = (ns: number): number => ops.filter((op) => op.key[0] === ns).length;
  return { postings: of(NS_POSTING), values: of(NS_LABEL_VALUE), names: of(NS_LABEL_NAME) };
}

describe('storage series index: staging index keys', () => {
  it('stages each label value key once per commit generation, and not again once committed', async () => {
    const index = new SeriesIndex(new MemoryKv());
    const entries = await index.resolve(Array.from({ length: 6 }, (_, i) => hostLabels(i)));
    const first: KvOp[] = [];
    const marks: IndexMarks = [];
    for (const e of entries.slice(0, 4)) index.stageDay(e, DAY, first, marks, 1);
    // 4 series × 3 labels; value keys for node_load1, node, host-0..2 once each.
    expect(counts(first)).to.deep.equal({ postings: 12, values: 5, names: 5 });

    // Staged for the next generation, while the first is not committed: the value keys come again,
    // since that generation's commit might fail while this one lands.
    const second: KvOp[] = [];
    index.stageDay(entries[4]!, DAY, second, [], 2);
    expect(counts(second)).to.deep.equal({ postings: 3, values: 3, names: 3 });

    index.markCommitted(marks);
    const third: KvOp[] = [];
    index.stageDay(entries[5]!, DAY, third, [], 3);
    expect(counts(third)).to.deep.equal({ postings: 3, values: 0, names: 0 });
    // Another day is another set of keys.
    const nextDay: KvOp[] = [];
    index.stageDay(entries[5]!, DAY + 1, nextDay, [], 3);
    expect(counts(nextDay)).to.deep.equal({ postings: 3, values: 3, names: 3 });
  });
});

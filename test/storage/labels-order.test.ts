import { expect } from 'chai';
import fc from 'fast-check';
import type { Labels } from '../../src/model/labels.js';
import { compareLabels, sortLabels } from '../../src/model/labels.js';
import { sortByLabels } from '../../src/storage/labels-order.js';

const names = fc.constantFrom('__name__', 'a', 'ab', 'a_b', 'b', 'job', 'le');
const values = fc.oneof(fc.constantFrom('', 'x', 'x\u0000', 'x\u0001', 'xy', 'y', '\u00e9', '\u{1f600}'), fc.string({ maxLength: 4 }));
const labelSet = fc
  .uniqueArray(fc.tuple(names, values), { selector: ([n]) => n, maxLength: 4 })
  .map((pairs): Labels => sortLabels(pairs.map(([name, value]) => ({ name, value }))));

describe('storage/labels-order', () => {
  it('sorts label sets in compareLabels order, NULs and prefixes included', () => {
    fc.assert(
      fc.property(fc.array(labelSet, { maxLength: 30 }), (sets) => {
        const items = sets.map((labels, i) => ({ labels, i }));
        const want = [...items].sort((a, b) => compareLabels(a.labels, b.labels) || a.i - b.i).map((x) => x.labels);
        const got = sortByLabels([...items]).map((x) => x.labels);
        // equal label sets may come in either order; compare the sets themselves
        expect(got).to.deep.equal(want);
      }),
      { numRuns: 500 },
    );
  });

  it('sorts in place and hands back the same array', () => {
    const items = [{ labels: [{ name: 'a', value: '2' }] }, { labels: [{ name: 'a', value: '1' }] }];
    expect(sortByLabels(items)).to.equal(items);
    expect(items.map((x) => x.labels[0]!.value)).to.deep.equal(['1', '2']);
  });
});

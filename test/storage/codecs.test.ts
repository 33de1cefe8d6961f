import { expect } from 'chai';
import fc from 'fast-check';
import { decodeLabels, encodeLabels, hashLabels, hashToSid } from '../../src/storage/labels-codec.js';
import { clip, mergeRuns } from '../../src/storage/merge.js';
import { decodeWalRecord, encodeWalRecord, type WalColumns } from '../../src/storage/wal-codec.js';
import { lbls } from './helpers.js';

function bitsOf(values: Float64Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length * 2));
}

describe('storage label encoding and series hash', () => {
  it('round-trips label sets, including empty and non-ASCII values', () => {
    const sets = [lbls({}), lbls({ __name__: 'up' }), lbls({ a: 'ü€😀', b: 'x'.repeat(300), c: '\u0000' })];
    for (const l of sets) expect(decodeLabels(encodeLabels(l))).to.deep.equal(l);
  });

  it('hashes deterministically and tells apart sets that differ only in where a boundary falls', () => {
    const a = hashLabels(lbls({ a: 'bc' }));
    expect(hashLabels(lbls({ a: 'bc' }))).to.deep.equal(a);
    expect(hashLabels(lbls({ ab: 'c' }))).to.not.deep.equal(a);
    expect(hashLabels(lbls({ a: 'b', c: '' }))).to.not.deep.equal(hashLabels(lbls({ a: 'b' })));
    // the sid is part of the stored format: a change here orphans every stored series
    expect(hashToSid(hashLabels(lbls({ __name__: 'up', job: 'node' }))).toString(16)).to.equal('26565677630f38d0');
  });

  it('spreads ids: no collisions among 50 000 similar label sets', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 50_000; i++) seen.add(hashToSid(hashLabels(lbls({ __name__: 'm', instance: `host-${i}:9100` }))));
    expect(seen.size).to.equal(50_000);
  });
});

describe('storage write-ahead record codec', () => {
  it('round-trips timestamps of any order and size and values bit for bit', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sid: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
            samples: fc.array(
              fc.tuple(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.integer(), fc.integer()),
              { maxLength: 20 },
            ),
          }),
          { maxLength: 5 },
        ),
        (input) => {
          const series = input.map(({ sid, samples }) => {
            const values = new Float64Array(samples.length);
            const words = new Uint32Array(values.buffer);
            samples.forEach(([, hi, lo], i) => {
              words[2 * i] = lo >>> 0;
              words[2 * i + 1] = hi >>> 0;
            });
            return { sid, timestamps: samples.map((s) => s[0]), values };
          });
          const decoded = decodeWalRecord(encodeWalRecord(series.map((x) => x.sid), columnsOf(series)));
          const kept = series.filter((s) => s.timestamps.length > 0); // a series without samples is left out
          expect(decoded.map((d) => d.sid)).to.deep.equal(kept.map((s) => s.sid));
          decoded.forEach((d, i) => {
            expect(Array.from(d.timestamps)).to.deep.equal(kept[i]!.timestamps);
            expect(bitsOf(d.values)).to.deep.equal(bitsOf(kept[i]!.values));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodes ranges of columns that are views into shared buffers, leaves out empty ranges, keeps sids with the top bit set', () => {
    const shared = Float64Array.of(0.5, NaN, -0, 1e300, 7, 8);
    const other = Float64Array.of(9, 10, 11);
    const sids = [0xffff_ffff_ffff_fffen, 7n, 0x8000_0000_0000_0001n];
    const columns: WalColumns = { timestamps: [10, 20, 0, 5, 0], values: shared.subarray(1), starts: [0, 2, 3], ends: [2, 2, 4] };
    const first = decodeWalRecord(encodeWalRecord(sids, columns));
    const second = decodeWalRecord(encodeWalRecord([3n], { timestamps: [1, 2], values: other.subarray(1), starts: [0], ends: [2] }));
    const again = decodeWalRecord(encodeWalRecord(sids, columns));
    for (const decoded of [first, again]) {
      expect(decoded.map((d) => d.sid)).to.deep.equal([0xffff_ffff_ffff_fffen, 0x8000_0000_0000_0001n]);
      expect(bitsOf(decoded[0]!.values)).to.deep.equal(bitsOf(shared.subarray(1, 3)));
      expect(Array.from(decoded[1]!.values)).to.deep.equal([7]);
    }
    expect(second[0]!.sid).to.equal(3n);
    expect(Array.from(second[0]!.values)).to.deep.equal([10, 11]);
  });

  it('rejects damaged records', () => {
    const bytes = encodeWalRecord([1n], { timestamps: [1, 2], values: Float64Array.of(1, 2), starts: [0], ends: [2] });
    expect(() => decodeWalRecord(bytes.subarray(0, bytes.length - 1))).to.throw(/corrupt write-ahead record/);
    const wrongVersion = bytes.slice();
    wrongVersion[0] = 9;
    expect(() => decodeWalRecord(wrongVersion)).to.throw(/version/);
  });
});

describe('storage chunk merge', () => {
  const run = (pairs: [number, number][]): { timestamps: Float64Array; values: Float64Array } => ({
    timestamps: Float64Array.from(pairs, (p) => p[0]),
    values: Float64Array.from(pairs, (p) => p[1]),
  });

  it('merges runs into one sample per timestamp, with the larger raw bits winning whatever the order', () => {
    const a = run([[1, 1], [3, 3], [5, 5]]);
    const b = run([[2, 2], [3, -3], [6, 6]]);
    const c = run([[3, 30], [4, 4]]);
    const want = [[1, 1], [2, 2], [3, -3], [4, 4], [5, 5], [6, 6]];
    for (const order of [[a, b, c], [c, b, a], [b, a, c]]) {
      const m = mergeRuns(order);
      expect(Array.from(m.timestamps, (t, i) => [t, m.values[i]])).to.deep.equal(want);
    }
  });

  it('clips inclusively', () => {
    const m = clip(run([[1, 1], [2, 2], [3, 3], [4, 4]]), 2, 3);
    expect(Array.from(m.timestamps)).to.deep.equal([2, 3]);
  });
});

describe('storage chunk merge ownership', () => {
  it('returns new arrays even for a single run', () => {
    const only = { timestamps: Float64Array.of(1, 2), values: Float64Array.of(3, 4) };
    const m = mergeRuns([only, { timestamps: new Float64Array(0), values: new Float64Array(0) }]);
    m.values[0] = 99;
    expect(only.values[0]).to.equal(3);
    expect(Array.from(m.timestamps)).to.deep.equal([1, 2]);
  });
});

/** The columns of a record of whole series, each series' samples after the previous one's. */
function columnsOf(series: readonly { timestamps: readonly number[]; values: Float64Array }[]): WalColumns {
  const timestamps = series.flatMap((s) => s.timestamps);
  const values = new Float64Array(timestamps.length);
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const s of series) {
    starts.push(at);
    values.set(s.values, at);
    at += s.values.length;
    ends.push(at);
  }
  return { timestamps, values, starts, ends };
}

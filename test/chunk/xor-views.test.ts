import { expect } from 'chai';
import fc from 'fast-check';
import { XorAppender } from '../../src/chunk/index.js';
import { hex, rawSeries, valuesFromBits } from './helpers.js';

describe('chunk/xor appendFrom over views', () => {
  it('reads the same bits from views at any offset of shared buffers as from a standalone array', () => {
    fc.assert(
      fc.property(rawSeries(60), fc.nat(5), (s, pad) => {
        const values = valuesFromBits(s.bits);
        const n = values.length;
        // the samples sit in the middle of a larger buffer, next to other data
        const shared = new Float64Array(pad + n + 3).fill(-1);
        shared.set(values, pad);
        const unrelated = new Float64Array(4).fill(123.5);
        const plain = new XorAppender();
        const viewed = new XorAppender();
        const other = new XorAppender();
        for (let i = 0; i < n; i++) {
          plain.appendFrom(values, i, s.timestamps[i]!);
          viewed.appendFrom(shared.subarray(pad + i, pad + i + 1), 0, s.timestamps[i]!);
          // switching buffers between appends must not mix their words up
          other.appendFrom(unrelated.subarray(1), 1, s.timestamps[i]!);
        }
        expect(hex(viewed.bytes())).to.equal(hex(plain.bytes()));
        const constant = new XorAppender();
        for (let i = 0; i < n; i++) constant.appendFrom(Float64Array.of(123.5), 0, s.timestamps[i]!);
        expect(hex(other.bytes())).to.equal(hex(constant.bytes()));
      }),
      { numRuns: 60 },
    );
  });
});

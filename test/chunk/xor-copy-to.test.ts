import { expect } from 'chai';
import fc from 'fast-check';
import { XorAppender } from '../../src/chunk/index.js';
import { hex, rawSeries, valuesFromBits } from './helpers.js';

describe('chunk/xor copyTo', () => {
  it('writes exactly the bytes of bytes() at any offset, between appends too', () => {
    fc.assert(
      fc.property(rawSeries(130), fc.nat(7), (s, offset) => {
        const values = valuesFromBits(s.bits);
        const a = new XorAppender();
        for (let i = 0; i < s.timestamps.length; i++) {
          a.appendFrom(values, i, s.timestamps[i]!);
          const out = new Uint8Array(offset + a.sizeBytes + 3).fill(0xee);
          const end = a.copyTo(out, offset);
          expect(end).to.equal(offset + a.sizeBytes);
          expect(hex(out.subarray(offset, end))).to.equal(hex(a.bytes()));
          // nothing outside the range is touched
          expect([...out.subarray(0, offset), ...out.subarray(end)].every((b) => b === 0xee)).to.equal(true);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('copies an empty chunk as its two header bytes', () => {
    const out = new Uint8Array(4).fill(0xee);
    expect(new XorAppender().copyTo(out, 1)).to.equal(3);
    expect(hex(out)).to.equal('ee0000ee');
  });
});

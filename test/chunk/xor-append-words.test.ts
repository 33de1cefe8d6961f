import { expect } from 'chai';
import { XorAppender } from '../../src/chunk/xor-appender.js';

describe('chunk: XorAppender.appendWords', () => {
  it('writes the same bytes as appendFrom, NaN payloads and negative zero included', () => {
    const values = new Float64Array([1.5, -0, 1.5, 2 ** 60, 0, -3.25, 7, 7]);
    const words = new Uint32Array(values.buffer);
    words[2 * 4 + 1] = 0x7ff00000; // a NaN with a payload in element 4
    words[2 * 4] = 0x1234;
    const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    const fromValues = new XorAppender();
    const fromWords = new XorAppender();
    for (let i = 0; i < values.length; i++) {
      const t = 1_000 + i * 15_000 + (i === 5 ? 3 : 0);
      fromValues.appendFrom(values, i, t);
      const hi = words[2 * i + (little ? 1 : 0)]!;
      const lo = words[2 * i + (little ? 0 : 1)]!;
      fromWords.appendWords(t, hi, lo);
    }
    expect(Buffer.from(fromWords.bytes()).equals(Buffer.from(fromValues.bytes()))).to.equal(true);
  });

  it('refuses a timestamp that does not follow the last one', () => {
    const a = new XorAppender();
    a.appendWords(10, 0, 0);
    expect(() => a.appendWords(10, 0, 0)).to.throw(/not after/);
  });
});

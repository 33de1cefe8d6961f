import { expect } from 'chai';
import fc from 'fast-check';
import { XorAppender, XorIterator, decodeXorChunk } from '../../src/chunk/index.js';
import { isStaleAt } from '../../src/model/value.js';
import { bitsOf, hex, rawSeries, referenceEncode, valuesFromBits, type RawSeries } from './helpers.js';

function encodeSeries(s: RawSeries, from = 0, to = s.timestamps.length, appender = new XorAppender()): XorAppender {
  const values = valuesFromBits(s.bits);
  for (let i = from; i < to; i++) appender.appendFrom(values, i, s.timestamps[i]!);
  return appender;
}

function valuesOf(it: XorIterator): Float64Array {
  const out = new Float64Array(1);
  it.valueInto(out, 0);
  return out;
}

describe('chunk/xor round trips', () => {
  it('keeps every timestamp and every value bit pattern exactly', () => {
    fc.assert(
      fc.property(rawSeries(150), (s) => {
        const a = encodeSeries(s);
        expect(a.numSamples).to.equal(s.timestamps.length);
        expect(a.firstT).to.equal(s.timestamps[0]);
        expect(a.lastT).to.equal(s.timestamps.at(-1));
        const { timestamps, values } = decodeXorChunk(a.bytes());
        expect(Array.from(timestamps)).to.deep.equal(s.timestamps);
        expect(bitsOf(values)).to.deep.equal(s.bits);
      }),
      { numRuns: 400 },
    );
  });

  it('writes the same bytes as a plain BigInt reference encoder', () => {
    fc.assert(
      fc.property(rawSeries(120), (s) => {
        expect(hex(encodeSeries(s).bytes())).to.equal(hex(referenceEncode(s)));
      }),
      { numRuns: 300 },
    );
  });

  it('fromBytes then append gives the bytes of one-shot encoding, at every split point', () => {
    fc.assert(
      fc.property(rawSeries(60), fc.nat(), (s, splitSeed) => {
        const whole = hex(encodeSeries(s).bytes());
        const split = splitSeed % (s.timestamps.length + 1);
        const head = encodeSeries(s, 0, split).bytes();
        const resumed = XorAppender.fromBytes(head);
        expect(hex(resumed.bytes())).to.equal(hex(head));
        expect(resumed.numSamples).to.equal(split);
        encodeSeries(s, split, s.timestamps.length, resumed);
        expect(hex(resumed.bytes())).to.equal(whole);
        expect(resumed.firstT).to.equal(s.timestamps[0]);
      }),
      { numRuns: 300 },
    );
  });

  it('resumes after each sample in turn, one sample per fromBytes', () => {
    fc.assert(
      fc.property(rawSeries(40), (s) => {
        let bytes = new XorAppender().bytes();
        const values = valuesFromBits(s.bits);
        for (let i = 0; i < s.timestamps.length; i++) {
          const a = XorAppender.fromBytes(bytes);
          a.appendFrom(values, i, s.timestamps[i]!);
          bytes = a.bytes();
        }
        expect(hex(bytes)).to.equal(hex(encodeSeries(s).bytes()));
      }),
      { numRuns: 100 },
    );
  });

  it('bytes() is a copy that later appends do not change', () => {
    const a = new XorAppender();
    a.append(1000, 1);
    const first = a.bytes();
    const snapshot = hex(first);
    a.append(2000, 2);
    a.append(3000, 2);
    expect(hex(first)).to.equal(snapshot);
    expect(decodeXorChunk(first).timestamps.length).to.equal(1);
  });

  it('keeps the staleness marker through append, decode, iterator and resume', () => {
    const stale = valuesFromBits([0x7ff0000000000002n, 0x7ff8000000000001n]);
    const a = new XorAppender();
    a.append(0, 5);
    a.appendFrom(stale, 0, 15_000);
    a.appendFrom(stale, 1, 30_000);
    a.appendFrom(stale, 0, 45_000);
    const { values } = decodeXorChunk(a.bytes());
    expect([0, 1, 2, 3].map((i) => isStaleAt(values, i))).to.deep.equal([false, true, false, true]);
    expect(bitsOf(values)[2]).to.equal(0x7ff8000000000001n);
    const it = new XorIterator(a.bytes());
    const out = new Float64Array(4);
    for (let i = 0; it.next(); i++) it.valueInto(out, i);
    expect(bitsOf(out)).to.deep.equal(bitsOf(values));
  });

  it('handles the ends of the safe range and deltas beyond 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const cases = [
      [-max, max],
      [-max, -max + 1, max],
      [-max, 0, max],
      [-max, -1, 0, max - 1, max],
      [max - 3, max - 2, max],
      [-max, max - 2 ** 52, max - 1, max],
    ];
    for (const ts of cases) {
      const s: RawSeries = { timestamps: ts, bits: ts.map((_, i) => BigInt(i) << 52n) };
      const a = encodeSeries(s);
      expect(hex(a.bytes())).to.equal(hex(referenceEncode(s)));
      expect(Array.from(decodeXorChunk(a.bytes()).timestamps)).to.deep.equal(ts);
      for (let k = 0; k <= ts.length; k++) {
        const resumed = XorAppender.fromBytes(encodeSeries(s, 0, k).bytes());
        expect(hex(encodeSeries(s, k, ts.length, resumed).bytes())).to.equal(hex(a.bytes()));
      }
    }
  });

  describe('XorIterator', () => {
    it('seek finds the first sample at or after t, for increasing targets', () => {
      fc.assert(
        fc.property(rawSeries(80), fc.array(fc.maxSafeInteger(), { maxLength: 5 }), (s, targets) => {
          const it = new XorIterator(encodeSeries(s).bytes());
          for (const target of [...targets].sort((x, y) => x - y)) {
            // The iterator stands on the first sample ≥ the previous target, so the answer is
            // the first sample ≥ this target either way.
            const want = s.timestamps.find((t) => t >= target);
            expect(it.seek(target)).to.equal(want !== undefined);
            if (want === undefined) break;
            expect(it.t).to.equal(want);
            expect(bitsOf(valuesOf(it))[0]).to.equal(s.bits[s.timestamps.indexOf(want)]);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('reports NaN before the first sample, keeps the last one after the end', () => {
      const a = new XorAppender();
      a.append(10, 1);
      a.append(20, 2);
      const it = new XorIterator(a.bytes());
      expect(it.t).to.be.NaN;
      expect(it.seek(15)).to.equal(true);
      expect([it.t, it.v]).to.deep.equal([20, 2]);
      expect(it.seek(5)).to.equal(true);
      expect(it.t).to.equal(20);
      expect(it.next()).to.equal(false);
      expect(it.seek(21)).to.equal(false);
      expect(it.t).to.equal(20);
    });
  });
});

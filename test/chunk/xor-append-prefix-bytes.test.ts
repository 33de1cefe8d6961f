import { expect } from 'chai';
import fc from 'fast-check';
import { XorAppender } from '../../src/chunk/index.js';
import { bitsOf, hex, rawSeries, referenceEncode, valueSeriesBits, valuesFromBits, type RawSeries } from './helpers.js';

/** Scrape-like timestamps whose delta-of-deltas fall in every bucket (0, 14, 17, 20 and 64 bits). */
const scrapeTimestamps = (length: number): fc.Arbitrary<number[]> =>
  fc
    .array(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: -8191, max: 8192 }),
        fc.integer({ min: -65535, max: 65536 }),
        fc.integer({ min: -524287, max: 524288 }),
        fc.integer({ min: -2_000_000, max: 2_000_000 }),
      ),
      { minLength: length, maxLength: length },
    )
    .map((jitters) => {
      const ts: number[] = [];
      let t = 1_700_000_000_000;
      for (const j of jitters) {
        const next = t + 3_000_000 + j;
        if (ts.length === 0 || next > ts.at(-1)!) ts.push(next);
        t += 3_000_000;
      }
      return ts;
    });

/** Whole numbers and quarters, as counters and gauges often hold: narrow XOR windows of every width. */
const smallNumberBits = (maxLength: number): fc.Arbitrary<bigint[]> =>
  fc
    .array(fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: -400, max: 400 }).map((k) => k / 4)), {
      maxLength,
    })
    .map((numbers) => bitsOf(new Float64Array(numbers)));

const scrapeSeries = (maxLength: number): fc.Arbitrary<RawSeries> =>
  fc
    .tuple(scrapeTimestamps(maxLength), fc.oneof(valueSeriesBits(maxLength), smallNumberBits(maxLength)))
    .map(([timestamps, bits]) => {
      const n = Math.min(timestamps.length, bits.length);
      return { timestamps: timestamps.slice(0, n), bits: bits.slice(0, n) };
    })
    .filter((s) => s.timestamps.length > 0);

/** After every append, bytes() and copyTo() equal the reference encoding of the samples so far. */
function expectEveryPrefixMatches(s: RawSeries): void {
  const values = valuesFromBits(s.bits);
  const a = new XorAppender();
  for (let i = 0; i < s.timestamps.length; i++) {
    a.appendFrom(values, i, s.timestamps[i]!);
    const want = hex(referenceEncode({ timestamps: s.timestamps.slice(0, i + 1), bits: s.bits.slice(0, i + 1) }));
    expect(hex(a.bytes())).to.equal(want, `after sample ${i}`);
    const out = new Uint8Array(a.sizeBytes + 3);
    expect(a.copyTo(out, 3)).to.equal(out.length);
    expect(hex(out.subarray(3))).to.equal(want, `copyTo after sample ${i}`);
  }
}

describe('chunk/xor appender bytes after every sample', () => {
  it('match the reference encoder for random streams, trailing byte included', () => {
    fc.assert(fc.property(rawSeries(40), expectEveryPrefixMatches), { numRuns: 200 });
  });

  it('match the reference encoder for scrape-like streams with every delta-of-delta width', () => {
    fc.assert(fc.property(scrapeSeries(40), expectEveryPrefixMatches), { numRuns: 200 });
  });

  it('match the reference encoder past the first buffer (long chunks grow it)', () => {
    fc.assert(fc.property(rawSeries(400), (s) => {
      const values = valuesFromBits(s.bits);
      const a = new XorAppender();
      s.timestamps.forEach((t, i) => a.appendFrom(values, i, t));
      expect(hex(a.bytes())).to.equal(hex(referenceEncode(s)));
    }), { numRuns: 50 });
  });
});

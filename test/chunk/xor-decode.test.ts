import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ChunkCorruptError, XorAppender, XorIterator, chunkNumSamples, decodeXorInto } from '../../src/chunk/index.js';
import { wordsOf } from '../../src/model/float-words.js';
import { bitsOf, fromHex, rawSeries, valuesFromBits } from './helpers.js';

/** What the strict iterator reads from a chunk: samples, or the error it throws. */
function iterate(bytes: Uint8Array): { timestamps: number[]; bits: bigint[] } | { error: string } {
  try {
    const it = new XorIterator(bytes);
    const timestamps: number[] = [];
    const out = new Float64Array(it.numSamples);
    for (let i = 0; it.next(); i++) {
      timestamps.push(it.t);
      it.valueInto(out, i);
    }
    return { timestamps, bits: bitsOf(out) };
  } catch (err) {
    if (!(err instanceof ChunkCorruptError)) throw err;
    return { error: err.message };
  }
}

/** decodeXorInto at slot `at` of larger arrays, checking it leaves the other slots alone. */
function decodeAt(bytes: Uint8Array, at: number): { timestamps: number[]; bits: bigint[] } | { error: string } {
  const n = chunkNumSamples(bytes);
  const timestamps = new Float64Array(at + n + 3).fill(-1);
  const values = new Float64Array(at + n + 3).fill(-1);
  try {
    const got = decodeXorInto(bytes, timestamps, wordsOf(values), at);
    expect(got).to.equal(n);
  } catch (err) {
    if (!(err instanceof ChunkCorruptError)) throw err;
    return { error: err.message };
  }
  for (const i of [...Array(at).keys(), at + n, at + n + 1, at + n + 2]) {
    expect(timestamps[i]).to.equal(-1);
    expect(values[i]).to.equal(-1);
  }
  return { timestamps: [...timestamps.subarray(at, at + n)], bits: bitsOf(values.subarray(at, at + n)) };
}

function chunkOf(timestamps: readonly number[], values: Float64Array): Uint8Array {
  const a = new XorAppender();
  timestamps.forEach((t, i) => a.appendFrom(values, i, t));
  return a.bytes();
}

describe('chunk/xor decodeXorInto', () => {
  it('reads what the iterator reads from random chunks, at any offset, values bit for bit', () => {
    fc.assert(
      fc.property(rawSeries(150), fc.nat(5), (s, at) => {
        const bytes = chunkOf(s.timestamps, valuesFromBits(s.bits));
        const want = iterate(bytes);
        expect(want).to.not.have.property('error');
        expect(decodeAt(bytes, at)).to.deep.equal(want);
      }),
      { numRuns: 500 },
    );
  });

  it('reads Prometheus-written chunks as the iterator does', () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/prometheus-chunks.json', import.meta.url), 'utf8')) as {
      series: { chunks: string[] }[];
    };
    for (const chunk of fixture.series.flatMap((s) => s.chunks.map(fromHex))) {
      expect(decodeAt(chunk, 2)).to.deep.equal(iterate(chunk));
    }
  });

  it('takes the exact path for deltas and timestamps near 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const cases: number[][] = [
      [-max, -max + 1, 0, max - 7, max],
      [-max, max],
      [0, 1, 2 ** 40, 2 ** 41, 2 ** 52, max],
      [-(2 ** 50), -1, 0, 1, 2 ** 49],
    ];
    for (const ts of cases) {
      const bytes = chunkOf(ts, Float64Array.from(ts, (_, i) => (i % 2 === 0 ? NaN : i * 0.1)));
      const got = decodeAt(bytes, 1);
      expect(got).to.deep.equal(iterate(bytes));
      expect((got as { timestamps: number[] }).timestamps).to.deep.equal(ts);
    }
  });

  it('rejects damaged chunks with the iterator\'s error, and otherwise agrees with it', () => {
    const chunks: Uint8Array[] = [];
    fc.assert(
      fc.property(rawSeries(60), (s) => {
        chunks.push(chunkOf(s.timestamps, valuesFromBits(s.bits)));
      }),
      { numRuns: 40 },
    );
    fc.assert(
      fc.property(
        fc.nat(chunks.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        fc.nat(40),
        (which, edits, cut) => {
          let bytes = chunks[which]!.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          if (cut > 0 && cut < bytes.length) bytes = bytes.slice(0, bytes.length - cut);
          if (bytes.length < 2 || chunkNumSamples(bytes) > 4096) return;
          expect(decodeAt(bytes, 1)).to.deep.equal(iterate(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses output arrays too small for the chunk', () => {
    const bytes = chunkOf([1, 2, 3], Float64Array.of(1, 2, 3));
    expect(() => decodeXorInto(bytes, new Float64Array(3), wordsOf(new Float64Array(3)), 1)).to.throw(RangeError);
  });
});

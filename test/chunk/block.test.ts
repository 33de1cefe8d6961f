import { expect } from 'chai';
import fc from 'fast-check';
import { MAX_SAMPLES_PER_BLOCK, blockSampleCount, decodeBlock, decodeBlockInto, encodeBlock } from '../../src/chunk/block.js';
import { ChunkCorruptError, XorAppender } from '../../src/chunk/index.js';
import { CHUNK_ENCODING_BLOCK, CHUNK_ENCODING_XOR, decodeChunkData, storedSampleCount } from '../../src/chunk/stored.js';
import { bitsOf, rawSeries, valuesFromBits } from './helpers.js';

const STALE = 0x7ff0_0000_0000_0002n;
const NAN_PAYLOAD = 0x7ff8_0000_0000_1234n;
const NEG_ZERO = 0x8000_0000_0000_0000n;
const POS_INF = 0x7ff0_0000_0000_0000n;
const NEG_INF = 0xfff0_0000_0000_0000n;

function scrape(n: number, fromMs: number, stepMs: number, value: (i: number) => number): { t: Float64Array; v: Float64Array } {
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = fromMs + i * stepMs;
    v[i] = value(i);
  }
  return { t, v };
}

function roundTrip(t: Float64Array, v: Float64Array): Uint8Array {
  const block = encodeBlock(t, v);
  const d = decodeBlock(block);
  expect(Array.from(d.timestamps)).to.deep.equal(Array.from(t));
  expect(bitsOf(d.values)).to.deep.equal(bitsOf(v));
  expect(blockSampleCount(block)).to.equal(t.length);
  return block;
}

function xorBytes(t: Float64Array, v: Float64Array): number {
  const a = new XorAppender();
  for (let i = 0; i < t.length; i++) a.appendFrom(v, i, t[i]!);
  return a.bytes().length;
}

describe('chunk/block', () => {
  it('keeps every timestamp and every value bit pattern of random series', () => {
    fc.assert(
      fc.property(rawSeries(300), (s) => {
        roundTrip(Float64Array.from(s.timestamps), valuesFromBits(s.bits));
      }),
      { numRuns: 400 },
    );
  });

  it('keeps decimal-looking series exactly, whatever their digits', () => {
    const decimals = fc.integer({ min: 0, max: 17 });
    const mantissa = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 });
    fc.assert(
      fc.property(fc.array(fc.tuple(mantissa, decimals), { minLength: 1, maxLength: 200 }), (pairs) => {
        const n = pairs.length;
        const t = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 15_000);
        const v = Float64Array.from(pairs, ([m, e]) => m / 10 ** e);
        roundTrip(t, v);
      }),
      { numRuns: 400 },
    );
  });

  it('handles the empty block, a single sample and huge or negative timestamps', () => {
    roundTrip(new Float64Array(0), new Float64Array(0));
    roundTrip(Float64Array.of(42), Float64Array.of(1.5));
    roundTrip(Float64Array.of(-(2 ** 53) + 1, 0, 2 ** 53 - 1), Float64Array.of(1, 2, 3));
    roundTrip(Float64Array.of(-5000, -1000, 7), Float64Array.of(-1.25, -2.5, -1e300));
    roundTrip(Float64Array.of(2 ** 52 + 10, 2 ** 52 + 11), Float64Array.of(0.1, 0.2));
  });

  it('keeps special values: staleness markers, NaN payloads, -0 and infinities', () => {
    for (const special of [STALE, NAN_PAYLOAD, NEG_ZERO, POS_INF, NEG_INF]) {
      const bits = [0x4000_0000_0000_0000n, special, 0x3ff0_0000_0000_0000n, special];
      roundTrip(Float64Array.of(1000, 2000, 3000, 4000), valuesFromBits(bits));
    }
  });

  it('is much smaller than XOR on node_exporter-like values (2-decimal counters, 4096-byte gauges, integers)', () => {
    const cpu = scrape(480, 1_700_000_000_000, 15_000, (i) => Math.round((1000 + i * 12.37 + (i % 7) * 0.01) * 100) / 100);
    const bytes = scrape(480, 1_700_000_000_000, 15_000, (i) => (2_000_000 + ((i * 7919) % 513)) * 4096);
    const constant = scrape(480, 1_700_000_000_000, 15_000, () => 1);
    for (const s of [cpu, bytes, constant]) {
      const block = roundTrip(s.t, s.v);
      expect(block.length).to.be.lessThan(xorBytes(s.t, s.v) / 2);
    }
  });

  it('holds up to 65,535 samples', () => {
    const s = scrape(MAX_SAMPLES_PER_BLOCK, 0, 1, (i) => i % 10);
    roundTrip(s.t, s.v);
    const more = scrape(MAX_SAMPLES_PER_BLOCK + 1, 0, 1, () => 0);
    expect(() => encodeBlock(more.t, more.v)).to.throw(RangeError);
  });

  it('decodes into a slot range of caller arrays, and through the stored-chunk dispatch', () => {
    const s = scrape(100, 5_000, 10_000, (i) => i / 4);
    const block = encodeBlock(s.t, s.v);
    const timestamps = new Float64Array(103);
    const values = new Float64Array(103);
    const words = new Uint32Array(values.buffer);
    expect(decodeBlockInto(block, timestamps, words, 3)).to.equal(100);
    expect(Array.from(timestamps.subarray(3))).to.deep.equal(Array.from(s.t));
    expect(Array.from(values.subarray(3))).to.deep.equal(Array.from(s.v));
    expect(storedSampleCount(CHUNK_ENCODING_BLOCK, block)).to.equal(100);
    expect(Array.from(decodeChunkData(CHUNK_ENCODING_BLOCK, block).values)).to.deep.equal(Array.from(s.v));
    const xor = new XorAppender();
    xor.append(1, 2);
    expect(storedSampleCount(CHUNK_ENCODING_XOR, xor.bytes())).to.equal(1);
    expect(() => decodeChunkData(9, block)).to.throw(/encoding 9 is unknown/);
  });

  it('throws ChunkCorruptError on damaged blocks', () => {
    const s = scrape(50, 0, 1000, (i) => i);
    const block = encodeBlock(s.t, s.v);
    expect(() => decodeBlock(new Uint8Array(0))).to.throw(ChunkCorruptError);
    expect(() => decodeBlock(Uint8Array.of(0x80, 1))).to.throw(ChunkCorruptError);
    expect(() => decodeBlock(block.subarray(0, block.length - 3))).to.throw(ChunkCorruptError);
    const wrongCount = block.slice();
    wrongCount[1] = 49;
    expect(() => decodeBlock(wrongCount)).to.throw(ChunkCorruptError);
  });
});

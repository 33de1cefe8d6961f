import { expect } from 'chai';
import fc from 'fast-check';
import { blockSpan, blockWithTail, decodeBlock, decodeBlockSpanInto, encodeBlock, inflateBlock, tailHolds } from '../../src/chunk/block.js';
import { ChunkCorruptError } from '../../src/chunk/index.js';
import { wordsOf } from '../../src/model/float-words.js';
import { bitsOf, valuesFromBits } from './helpers.js';

const STALE = 0x7ff0_0000_0000_0002n;
const NAN_PAYLOAD = 0x7ff8_0000_0000_1234n;
const STEP_MS = 15_000;
const T0 = 1_700_000_000_000;

function series(n: number, value: (i: number) => number): { t: Float64Array; v: Float64Array } {
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * STEP_MS;
    v[i] = value(i);
  }
  return { t, v };
}

/** The samples of the block within [startMs, endMs] by a partial decode, written after `pad` slots. */
function partial(block: Uint8Array, startMs: number, endMs: number, pad = 3): { t: number[]; bits: bigint[] } {
  const inflated = inflateBlock(block);
  const span = blockSpan(inflated, startMs, endMs);
  const n = span.hi - span.lo;
  const timestamps = new Float64Array(pad + n + pad).fill(-1);
  const values = new Float64Array(pad + n + pad).fill(-1);
  expect(decodeBlockSpanInto(inflated, span, timestamps, wordsOf(values), pad)).to.equal(n);
  expect(Array.from(timestamps.subarray(0, pad))).to.deep.equal(new Array<number>(pad).fill(-1));
  expect(Array.from(timestamps.subarray(pad + n))).to.deep.equal(new Array<number>(pad).fill(-1));
  return { t: Array.from(timestamps.subarray(pad, pad + n)), bits: bitsOf(values.subarray(pad, pad + n)) };
}

/** The same samples by decoding the whole block and keeping those in range. */
function whole(block: Uint8Array, startMs: number, endMs: number): { t: number[]; bits: bigint[] } {
  const d = decodeBlock(block);
  const keep: number[] = [];
  d.timestamps.forEach((t, i) => {
    if (t >= startMs && t <= endMs) keep.push(i);
  });
  return { t: keep.map((i) => d.timestamps[i]!), bits: keep.map((i) => bitsOf(d.values.subarray(i, i + 1))[0]!) };
}

/** Ranges at and around the block's edges and samples, empty ones included. */
function edgeRanges(n: number): [number, number][] {
  const first = T0;
  const last = T0 + (n - 1) * STEP_MS;
  const mid = T0 + Math.floor(n / 2) * STEP_MS;
  return [
    [first - 3_600_000, first - 1], // before the first sample
    [last + 1, last + 3_600_000], // after the last
    [first - 300_000, first], // the first sample only
    [last, last + 300_000], // the last sample only
    [first, last], // exactly the whole block
    [first - 1, last + 1],
    [mid - 300_000, mid], // an instant query's lookback
    [mid + 1, mid + STEP_MS - 1], // between two samples
    [mid, mid], // one sample, start = end
    [last - 300_000, last - 1], // the end of the block, last sample excluded
    [first + 1, first + 300_000], // the start, first sample excluded
    [mid + 10, mid - 10], // start after end
  ];
}

function expectSameEverywhere(block: Uint8Array, n: number): void {
  for (const [startMs, endMs] of edgeRanges(n)) {
    expect(partial(block, startMs, endMs), `[${startMs - T0}, ${endMs - T0}]`).to.deep.equal(whole(block, startMs, endMs));
  }
}

describe('block partial decode', () => {
  it('decodes only the samples in range of decimal blocks, in each value order', () => {
    const orders: [string, (i: number) => number][] = [
      ['raw', (i) => ((i * 7919) % 101) - 50],
      ['delta', (i) => 1000 + ((i * 31) % 17)],
      ['delta-of-delta (a counter)', (i) => 123_456.25 + i * 0.75],
      ['scaled', (i) => 4096 * (i % 9)],
    ];
    for (const [, value] of orders) {
      const { t, v } = series(480, value);
      const block = encodeBlock(t, v);
      expectSameEverywhere(block, 480);
    }
  });

  it('decodes only the samples in range of XOR-valued blocks, stale markers and NaN payloads bit for bit', () => {
    const bits: bigint[] = [];
    for (let i = 0; i < 240; i++) {
      if (i % 37 === 5) bits.push(STALE);
      else if (i % 53 === 7) bits.push(NAN_PAYLOAD);
      else bits.push(bitsOf(new Float64Array([Math.sin(i) * 1e3]))[0]!);
    }
    const values = valuesFromBits(bits);
    const { t } = series(240, () => 0);
    const block = encodeBlock(t, values);
    expect(inflateBlock(block).valuesAt).to.equal(1); // the XOR kind
    expectSameEverywhere(block, 240);
    const lastStale = T0 + 227 * STEP_MS;
    expect(partial(block, lastStale, lastStale).bits).to.deep.equal([STALE]);
  });

  it('reads blocks of one sample and blocks stored without deflate', () => {
    const one = series(1, () => 42);
    const stored = encodeBlock(one.t, one.v);
    expect(stored[0]).to.equal(0); // flags: not deflated
    expectSameEverywhere(stored, 1);
    const two = series(2, (i) => i);
    expectSameEverywhere(encodeBlock(two.t, two.v), 2);
  });

  it('gives what a whole decode gives for any samples and range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double())), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: -10, max: 310 }),
        fc.integer({ min: 0, max: 320 }),
        (samples, from, length) => {
          const t = new Float64Array(samples.length);
          const v = new Float64Array(samples.length);
          let at = T0;
          samples.forEach(([gap, value], i) => {
            at += gap;
            t[i] = at;
            v[i] = value;
          });
          const block = encodeBlock(t, v);
          const startMs = T0 + from * 50_000;
          const endMs = startMs + length * 50_000;
          expect(partial(block, startMs, endMs)).to.deep.equal(whole(block, startMs, endMs));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes a tail that holds, bit for bit, every sample from any start it claims to hold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: -1e6, max: 1e6 })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 310 }),
        (samples, back) => {
          const t = new Float64Array(samples.length);
          const v = new Float64Array(samples.length);
          let at = T0;
          samples.forEach(([gap, value], i) => {
            at += gap;
            t[i] = at;
            v[i] = value / 100;
          });
          const inflated = inflateBlock(encodeBlock(t, v));
          expect(inflated.valuesAt).to.be.greaterThan(1); // the decimal kind
          const last = t[t.length - 1]!;
          const startMs = last - back * 50_000;
          const withTail = blockWithTail(inflated);
          const tail = withTail.tail!;
          const n = tail.timestamps.length;
          expect(n).to.be.within(Math.min(33, t.length), 48);
          expect(Array.from(tail.timestamps)).to.deep.equal(Array.from(t.subarray(t.length - n)));
          expect(bitsOf(tail.values)).to.deep.equal(bitsOf(v.subarray(v.length - n)));
          expect(blockWithTail(withTail)).to.equal(withTail);
          expect(withTail.count).to.equal(inflated.count);
          expect(inflated.tail).to.equal(null);
          // it claims exactly the starts after the last sample it leaves out
          const leftOut = t.length - n - 1;
          expect(tailHolds(inflated, startMs)).to.equal(leftOut < 0 || t[leftOut]! < startMs);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never offers a tail of an XOR-valued block', () => {
    const { t } = series(200, () => 0);
    const values = Float64Array.from({ length: 200 }, (_, i) => Math.sin(i) * 1e3);
    const inflated = inflateBlock(encodeBlock(t, values));
    expect(inflated.valuesAt).to.equal(1); // the XOR kind
    expect(tailHolds(inflated, t[199]!)).to.equal(false);
  });

  it('rejects a damaged body when inflating, not later', () => {
    const { t, v } = series(100, (i) => i * 2.5);
    const block = encodeBlock(t, v);
    const body = new Uint8Array(decodeBodyOf(block));
    body[body.length - 1] = 0xff; // the last varint no longer ends
    const damaged = new Uint8Array([0, 100, ...body]);
    expect(() => inflateBlock(damaged)).to.throw(ChunkCorruptError);
  });
});

/** The inflated body of a block (through the public reader). */
function decodeBodyOf(block: Uint8Array): Uint8Array {
  return inflateBlock(block).body;
}

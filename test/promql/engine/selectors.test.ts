import { expect } from 'chai';
import { MemoryQueryable } from '../../../src/promql/testing/memory-queryable.js';
import type { QueryResult } from '../../../src/promql/types.js';
import { at, call, num, range, sel, sub } from './ast.js';
import { MIN, SEC, engineOver, labels, values } from './helpers.js';

function vectorValues(result: QueryResult): number[] {
  if (result.resultType !== 'vector') throw new Error(`expected vector, got ${result.resultType}`);
  return result.samples.map((s) => s.v);
}

describe('engine: lookback and staleness', () => {
  const storage = new MemoryQueryable();
  storage.add(labels('single'), [0], values(7));
  storage.add(labels('marked'), [0, 30 * SEC, 60 * SEC], values(1, 2, 'stale'));
  const engine = engineOver(storage);

  it('sees a sample exactly lookback-delta old, and not one millisecond later', async () => {
    expect(vectorValues((await engine.evaluateInstant(sel('single'), 300 * SEC)).result)).to.deep.equal([7]);
    expect(vectorValues((await engine.evaluateInstant(sel('single'), 300 * SEC + 1)).result)).to.deep.equal([]);
  });

  it('honours a per-query lookback delta', async () => {
    const out = await engine.evaluateInstant(sel('single'), 60 * SEC + 1, { lookbackDeltaMs: 60 * SEC });
    expect(vectorValues(out.result)).to.deep.equal([]);
    const inside = await engine.evaluateInstant(sel('single'), 60 * SEC, { lookbackDeltaMs: 60 * SEC });
    expect(vectorValues(inside.result)).to.deep.equal([7]);
  });

  it('ends a series at a staleness marker even with older samples in the window', async () => {
    expect(vectorValues((await engine.evaluateInstant(sel('marked'), 59 * SEC)).result)).to.deep.equal([2]);
    expect(vectorValues((await engine.evaluateInstant(sel('marked'), 60 * SEC)).result)).to.deep.equal([]);
  });

  it('leaves staleness markers out of range vectors, with both window ends inclusive', async () => {
    const result = (await engine.evaluateInstant(range(sel('marked'), 60 * SEC), 60 * SEC)).result;
    expect(result.resultType).to.equal('matrix');
    if (result.resultType !== 'matrix') return;
    expect(Array.from(result.series[0]!.timestamps)).to.deep.equal([0, 30 * SEC]);
    const count = (await engine.evaluateInstant(call('count_over_time', range(sel('marked'), 30 * SEC)), 60 * SEC)).result;
    expect(vectorValues(count)).to.deep.equal([1]);
  });

  it('applies offset and @, and @ pins every step of a range query', async () => {
    const offset = await engine.evaluateInstant(sel('marked', {}, { offsetMs: 30 * SEC }), 60 * SEC);
    expect(vectorValues(offset.result)).to.deep.equal([2]);
    const pinned = await engine.evaluateRange(sel('marked', {}, { at: at(30 * SEC) }), 0, 10 * MIN, MIN);
    expect(pinned.result.resultType).to.equal('matrix');
    if (pinned.result.resultType !== 'matrix') return;
    expect(Array.from(pinned.result.series[0]!.values)).to.deep.equal(new Array(11).fill(2));
  });

  it('moves a pinned range with the steps where predict_linear is evaluated per step, as 2.42 does', async () => {
    const s = new MemoryQueryable();
    const ts = Array.from({ length: 21 }, (_, i) => i * MIN);
    s.add(labels('g'), ts, Float64Array.from(ts, (_, i) => i));
    const e = engineOver(s);
    // At the first step the window ends at 5m; one step later at 6m, but only data up to the
    // pinned 5m was fetched, as in Prometheus, so the second fit uses the samples at 4m and 5m.
    const expr = call('predict_linear', range(sel('g', {}, { at: at(5 * MIN) }), 2 * MIN), num(0));
    const out = await e.evaluateRange(expr, 10 * MIN, 11 * MIN, MIN);
    if (out.result.resultType !== 'matrix') throw new Error('expected matrix');
    // The regression is anchored at each step's evaluation time: 5 at 10m, then the line
    // through (3m,3) (4m,4) (5m,5) read at 11m gives 11.
    expect(Array.from(out.result.series[0]!.values)).to.deep.equal([10, 11]);
  });

  it('reads timestamp(x @ t) at t itself, ignoring the offset, as Prometheus does', async () => {
    const out = await engine.evaluateInstant(
      call('timestamp', sel('marked', {}, { at: at(45 * SEC), offsetMs: 30 * SEC })),
      10 * MIN,
    );
    expect(vectorValues(out.result)).to.deep.equal([30]);
  });

  it('evaluates subquery steps at absolute multiples of the subquery step', async () => {
    const s = new MemoryQueryable();
    s.add(labels('m'), [0, 10 * SEC, 20 * SEC, 30 * SEC, 40 * SEC], values(0, 1, 2, 3, 4));
    const e = engineOver(s);
    // At t=35s, [20s:10s] covers 15s..35s: inner steps 20s and 30s.
    const result = (await e.evaluateInstant(sub(sel('m'), 20 * SEC, 10 * SEC), 35 * SEC)).result;
    if (result.resultType !== 'matrix') throw new Error('expected matrix');
    expect(Array.from(result.series[0]!.timestamps)).to.deep.equal([20 * SEC, 30 * SEC]);
    expect(Array.from(result.series[0]!.values)).to.deep.equal([2, 3]);
  });

  it('counts counter resets inside each sliding window only, around staleness markers and NaN', async () => {
    const ts = Array.from({ length: 9 }, (_, i) => i * 10 * SEC);
    const s = new MemoryQueryable();
    // A drop right after a marker compares with the sample before the marker; nothing is below NaN.
    const raw: (number | 'stale')[] = [5, 3, 4, 'stale', 2, 6, NaN, 1, 7];
    s.add(labels('marked'), ts, values(...raw));
    s.add(labels('plain'), ts, values(...raw.map((v) => (v === 'stale' ? 8 : v))));
    const e = engineOver(s);
    const out = (await e.evaluateRange(call('resets', range(sel('marked'), 20 * SEC)), 0, 80 * SEC, 10 * SEC)).result;
    const plain = (await e.evaluateRange(call('resets', range(sel('plain'), 20 * SEC)), 0, 80 * SEC, 10 * SEC)).result;
    const naive = (vs: (number | 'stale')[]): number[] =>
      ts.map((t) => {
        const w = vs.filter((v, i): v is number => v !== 'stale' && ts[i]! >= t - 20 * SEC && ts[i]! <= t);
        return w.filter((v, i) => i > 0 && v < w[i - 1]!).length;
      });
    if (out.resultType !== 'matrix' || plain.resultType !== 'matrix') throw new Error('expected matrix');
    expect(Array.from(out.series[0]!.values)).to.deep.equal(naive(raw));
    expect(Array.from(plain.series[0]!.values)).to.deep.equal(naive(raw.map((v) => (v === 'stale' ? 8 : v))));
    // The window [50s, 70s] holds 6, NaN, 1 and spans all of it: no reset, so increase is 1 - 6.
    const increase = (await e.evaluateInstant(call('increase', range(sel('plain'), 20 * SEC)), 70 * SEC)).result;
    expect(vectorValues(increase)).to.deep.equal([-5]);
  });

  it('slides closed windows over steps shorter than, equal to and longer than the range', async () => {
    const ts = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((x) => x * SEC);
    const s = new MemoryQueryable();
    s.add(labels('m'), ts, values(...ts.map((_, i) => i)));
    const e = engineOver(s);
    for (const stepS of [5, 10, 20, 30]) {
      for (const rangeS of [10, 20]) {
        const expr = call('count_over_time', range(sel('m'), rangeS * SEC));
        const out = (await e.evaluateRange(expr, 0, 100 * SEC, stepS * SEC)).result;
        if (out.resultType !== 'matrix') throw new Error('expected matrix');
        const steps = Array.from({ length: Math.floor(100 / stepS) + 1 }, (_, i) => i * stepS * SEC);
        const naive = steps.map((t) => ts.filter((x) => x >= t - rangeS * SEC && x <= t).length);
        expect(Array.from(out.series[0]!.values), `step ${stepS}s, range ${rangeS}s`).to.deep.equal(naive);
      }
    }
  });
});

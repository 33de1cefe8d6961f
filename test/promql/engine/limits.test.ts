import { expect } from 'chai';
import { MetricstorError } from '../../../src/errors.js';
import type { SelectParams, SeriesData } from '../../../src/storage/types.js';
import { PromqlEngine } from '../../../src/promql/engine/engine.js';
import { MemoryQueryable } from '../../../src/promql/testing/memory-queryable.js';
import { bin, call, range, sel, sub } from './ast.js';
import { MIN, SEC, engineOver, labels, values } from './helpers.js';

async function failure(p: Promise<unknown>): Promise<MetricstorError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(MetricstorError);
    return err as MetricstorError;
  }
  throw new Error('expected the query to fail');
}

describe('engine: limits and errors', () => {
  const storage = new MemoryQueryable();
  const ts = Array.from({ length: 100 }, (_, i) => i * 15 * SEC);
  storage.add(labels('m', { i: '1' }), ts, Float64Array.from(ts, (_, i) => i));
  storage.add(labels('m', { i: '2' }), ts, Float64Array.from(ts, (_, i) => 2 * i));
  storage.add(labels('n', { i: '1' }), [0], values(1));
  storage.add(labels('n', { i: '1', extra: 'x' }), [0], values(2));

  it('stops a query that loads too many samples', async () => {
    const e = engineOver(storage, { maxSamples: 150 });
    const err = await failure(e.evaluateInstant(range(sel('m'), 30 * MIN), 30 * MIN));
    expect(err.type).to.equal('execution');
    expect(err.message).to.equal('query processing would load too many samples into memory in query execution');
    // Within the budget the same engine answers.
    await engineOver(storage, { maxSamples: 1000 }).evaluateInstant(range(sel('m'), 30 * MIN), 30 * MIN);
  });

  it('counts points made by subqueries against the budget', async () => {
    const e = engineOver(storage, { maxSamples: 250 });
    const expr = call('sum_over_time', sub(sel('m'), 20 * MIN, SEC));
    const err = await failure(e.evaluateInstant(expr, 20 * MIN));
    expect(err.type).to.equal('execution');
  });

  it('refuses before allocating more step slots than the sample budget allows', async () => {
    const e = engineOver(storage, { maxSamples: 1000 });
    const err = await failure(e.evaluateInstant(call('sum_over_time', sub(sel('m'), 30 * MIN, 1)), 30 * MIN));
    expect(err.type).to.equal('execution');
    const wide = await failure(e.evaluateRange(sel('m'), 0, 1000 * SEC, SEC));
    expect(wide.type).to.equal('execution');
  });

  it('rejects range queries with too many points per series', async () => {
    const e = engineOver(storage, { maxPointsPerSeries: 11_000 });
    const err = await failure(e.evaluateRange(sel('m'), 0, 11_000 * SEC, SEC));
    expect(err.type).to.equal('bad_data');
    expect(err.message).to.equal(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
    await e.evaluateRange(sel('m'), 0, 10_999 * SEC, SEC);
  });

  it('rejects a range vector as the result of a range query', async () => {
    const err = await failure(engineOver(storage).evaluateRange(range(sel('m'), MIN), 0, MIN, SEC));
    expect(err.type).to.equal('bad_data');
    expect(err.message).to.contain('invalid expression type "range vector" for range query');
  });

  it('times out and cancels with the Prometheus error types', async () => {
    const slow = {
      select: (_: SelectParams) => new Promise<SeriesData[]>((resolve) => setTimeout(() => resolve([]), 500)),
    };
    const e = new PromqlEngine(slow, { parse: () => sel('m'), limits: { timeoutMs: 20 } });
    const timed = await failure(e.evaluateInstant(sel('m'), 0));
    expect(timed.type).to.equal('timeout');
    expect(timed.message).to.equal('query timed out in expression evaluation');
    const controller = new AbortController();
    controller.abort();
    const canceled = await failure(engineOver(storage).evaluateInstant(sel('m'), 0, { signal: controller.signal }));
    expect(canceled.type).to.equal('canceled');
  });

  it('reports ambiguous vector matches with the Prometheus messages', async () => {
    const e = engineOver(storage);
    const manyToOne = await failure(e.evaluateInstant(bin('+', sel('n'), sel('m'), { on: true, labels: ['i'] }), 0));
    expect(manyToOne.type).to.equal('execution');
    expect(manyToOne.message).to.equal(
      'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    );
    const duplicate = await failure(e.evaluateInstant(bin('+', sel('m'), sel('n'), { on: true, labels: ['i'] }), 0));
    expect(duplicate.message).to.equal(
      'found duplicate series for the match group {i="1"} on the right hand-side of the operation: ' +
        '[{__name__="n", i="1"}, {__name__="n", extra="x", i="1"}];' +
        'many-to-many matching not allowed: matching labels must be unique on one side',
    );
  });

  it('fails when dropping the metric name leaves two identical series', async () => {
    const s = new MemoryQueryable();
    s.add(labels('a', { k: 'x' }), [0], values(1.5));
    s.add(labels('b', { k: 'x' }), [0], values(2.5));
    const either = { ...sel('a'), matchers: [{ type: '=~' as const, name: '__name__', value: 'a|b' }] };
    const err = await failure(engineOver(s).evaluateInstant(call('ceil', either), 0));
    expect(err.message).to.equal('vector cannot contain metrics with the same labelset');
  });

  it('raises evaluation errors from functions as execution errors', async () => {
    const err = await failure(
      engineOver(storage).evaluateInstant(
        call('holt_winters', range(sel('m'), 5 * MIN), { kind: 'NumberLiteral', value: 2, pos: { start: 0, end: 0 } }, {
          kind: 'NumberLiteral',
          value: 0.5,
          pos: { start: 0, end: 0 },
        }),
        10 * MIN,
      ),
    );
    expect(err.type).to.equal('execution');
    expect(err.message).to.equal('invalid smoothing factor. Expected: 0 < sf < 1, got: 2.000000');
  });
});

import { expect } from 'chai';
import type { Expr } from '../../../src/promql/parser/ast.js';
import { preprocess } from '../../../src/promql/engine/preprocess.js';
import { MemoryQueryable } from '../../../src/promql/testing/memory-queryable.js';
import { agg, at, bin, call, num, range, sel, sub } from './ast.js';
import { MIN, SEC, engineOver, labels } from './helpers.js';

function count(expr: Expr, kind: Expr['kind']): number {
  let n = expr.kind === kind ? 1 : 0;
  const children: Expr[] = [];
  switch (expr.kind) {
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
    case 'SubqueryExpr':
      children.push(expr.expr);
      break;
    case 'MatrixSelector':
      children.push(expr.vector);
      break;
    case 'AggregateExpr':
      children.push(expr.expr);
      if (expr.param) children.push(expr.param);
      break;
    case 'BinaryExpr':
      children.push(expr.lhs, expr.rhs);
      break;
    case 'Call':
      children.push(...expr.args);
      break;
    default:
  }
  for (const c of children) n += count(c, kind);
  return n;
}

describe('engine: planning and step invariance', () => {
  function storage(): MemoryQueryable {
    const s = new MemoryQueryable();
    const ts = Array.from({ length: 61 }, (_, i) => i * 10 * SEC);
    s.add(labels('req', { job: 'a' }), ts, Float64Array.from(ts, (_, i) => i * 10));
    s.add(labels('req', { job: 'b' }), ts, Float64Array.from(ts, (_, i) => i * 20));
    return s;
  }

  it('fetches every selector once, before evaluation, for a whole range query', async () => {
    const s = storage();
    const e = engineOver(s);
    const expr = bin('/', call('rate', range(sel('req'), 2 * MIN)), agg('sum', sel('req')));
    await e.evaluateRange(expr, 2 * MIN, 10 * MIN, 15 * SEC);
    expect(s.selectCalls).to.have.length(2);
    const [rate, plain] = s.selectCalls;
    expect(rate).to.include({ startMs: 0, endMs: 10 * MIN });
    expect(plain).to.include({ startMs: 2 * MIN - 5 * MIN, endMs: 10 * MIN });
  });

  it('plans subqueries, offsets and @ into each selector range', async () => {
    const s = storage();
    const e = engineOver(s);
    const expr = bin(
      '+',
      call('max_over_time', sub(sel('req', {}, { offsetMs: MIN }), 5 * MIN, MIN)),
      call('rate', range(sel('req', {}, { at: at(3 * MIN) }), MIN)),
      { on: true, labels: ['job'] },
    );
    await e.evaluateRange(expr, 8 * MIN, 9 * MIN, MIN);
    expect(s.selectCalls).to.have.length(2);
    // Inner steps 3m..9m, each reading 1m earlier with a 5m lookback.
    expect(s.selectCalls[0]).to.include({ startMs: 3 * MIN - MIN - 5 * MIN, endMs: 9 * MIN - MIN });
    expect(s.selectCalls[1]).to.include({ startMs: 2 * MIN, endMs: 3 * MIN });
  });

  it('wraps @-pinned subtrees as step invariant but not time-dependent functions', () => {
    const pinned = preprocess(call('rate', range(sel('req', {}, { at: { kind: 'end' } }), MIN)), 0, 10 * MIN);
    expect(pinned.kind).to.equal('StepInvariantExpr');
    const unsafe = preprocess(call('timestamp', sel('req', {}, { at: at(MIN) })), 0, 10 * MIN);
    expect(unsafe.kind).to.equal('Call');
    expect(count(unsafe, 'StepInvariantExpr')).to.equal(1);
    const mixed = preprocess(bin('+', sel('req'), agg('sum', sel('req', {}, { at: at(MIN) }))), 0, MIN);
    expect(mixed.kind).to.equal('BinaryExpr');
    expect(count(mixed, 'StepInvariantExpr')).to.equal(1);
    expect(count(preprocess(num(1), 0, 0), 'StepInvariantExpr')).to.equal(1);
  });

  it('gives a step-invariant subtree the same value at every step', async () => {
    const e = engineOver(storage());
    const expr = agg('sum', sel('req', {}, { at: { kind: 'start' } }));
    const out = await e.evaluateRange(expr, 2 * MIN, 6 * MIN, MIN);
    if (out.result.resultType !== 'matrix') throw new Error('expected matrix');
    // At 2m: job a = 120, job b = 240.
    expect(Array.from(out.result.series[0]!.values)).to.deep.equal([360, 360, 360, 360, 360]);
    expect(Array.from(out.result.series[0]!.timestamps)).to.deep.equal([2, 3, 4, 5, 6].map((m) => m * MIN));
  });

  it('resolves @ end() to the end of a range query', async () => {
    const s = storage();
    const e = engineOver(s);
    await e.evaluateRange(sel('req', {}, { at: { kind: 'end' } }), MIN, 7 * MIN, MIN);
    expect(s.selectCalls[0]).to.include({ startMs: 2 * MIN, endMs: 7 * MIN });
  });
});

import { expect } from 'chai';
import { PromqlEngine } from '../../../src/promql/engine/engine.js';
import { expandTemplate } from '../../../src/promql/engine/functions/label.js';
import { formatFloatPlain, parseGoFloat } from '../../../src/promql/engine/numeric.js';
import { MemoryQueryable } from '../../../src/promql/testing/memory-queryable.js';
import type { QueryResult } from '../../../src/promql/types.js';
import { formatLabels } from '../../../src/model/labels.js';
import { MIN, SEC, labels, values } from './helpers.js';

function rows(result: QueryResult): string[] {
  if (result.resultType !== 'vector') throw new Error(`expected vector, got ${result.resultType}`);
  return result.samples.map((s) => `${s.labels.length ? formatLabels(s.labels) : '{}'} ${s.v}`);
}

describe('engine: functions and result shapes', () => {
  const storage = new MemoryQueryable();
  storage.add(labels('v', { k: 'a' }), [0, 30 * SEC], values(1e6, 1e6));
  storage.add(labels('v', { k: 'b' }), [0, 20 * SEC], values(1e-7, 3));
  storage.add(labels('v', { k: 'c' }), [0, 40 * SEC], values(NaN, -0));
  const engine = new PromqlEngine(storage);

  it('count_values writes values the way Go formats them, never in exponent form', async () => {
    const at0 = await engine.instantQuery('count_values("value", v)', 0);
    expect(rows(at0.result).sort()).to.deep.equal(['{value="0.0000001"} 1', '{value="1000000"} 1', '{value="NaN"} 1']);
    expect(formatFloatPlain(-0)).to.equal('-0');
    expect(formatFloatPlain(1.5e300)).to.equal('15' + '0'.repeat(299));
    expect(formatFloatPlain(-2.5e-10)).to.equal('-0.00000000025');
  });

  it('timestamp() reports the sample time of a selector and the evaluation time otherwise', async () => {
    const direct = await engine.instantQuery('timestamp(v)', MIN);
    expect(rows(direct.result)).to.deep.equal(['{k="a"} 30', '{k="b"} 20', '{k="c"} 40']);
    const computed = await engine.instantQuery('timestamp(v + 1)', MIN);
    expect(rows(computed.result)).to.deep.equal(['{k="a"} 60', '{k="b"} 60', '{k="c"} 60']);
  });

  it('sort_desc orders by value with NaN last, and keeps the metric name', async () => {
    const sorted = await engine.instantQuery('sort_desc(v)', 10 * SEC);
    expect(rows(sorted.result)).to.deep.equal(['v{k="a"} 1000000', 'v{k="b"} 1e-7', 'v{k="c"} NaN']);
  });

  it('returns range results sorted by labels, scalars as one unlabelled series', async () => {
    const out = await engine.rangeQuery('-v', 0, MIN, 20 * SEC);
    if (out.result.resultType !== 'matrix') throw new Error('expected matrix');
    expect(out.result.series.map((s) => formatLabels(s.labels))).to.deep.equal(['{k="a"}', '{k="b"}', '{k="c"}']);
    expect(Array.from(out.result.series[1]!.values)).to.deep.equal([-1e-7, -3, -3, -3]);
    const scalar = await engine.rangeQuery('time() * 2', 0, MIN, 30 * SEC);
    if (scalar.result.resultType !== 'matrix') throw new Error('expected matrix');
    expect(scalar.result.series).to.have.length(1);
    expect(scalar.result.series[0]!.labels).to.deep.equal([]);
    expect(Array.from(scalar.result.series[0]!.values)).to.deep.equal([0, 60, 120]);
  });

  it('absent() labels come from the equality matchers only', async () => {
    const out = await engine.instantQuery('absent(nope{a="1", b=~"x", c="2", c="3"})', 0);
    expect(rows(out.result)).to.deep.equal(['{a="1"} 1']);
    expect(rows((await engine.instantQuery('absent(v)', 0)).result)).to.deep.equal([]);
  });

  it('expands label_replace templates as Go does', () => {
    const m = /^(?<first>a)(b)$/.exec('ab')!;
    expect(expandTemplate('$1-$2', m)).to.equal('a-b');
    expect(expandTemplate('${1}x', m)).to.equal('ax');
    expect(expandTemplate('$1x', m)).to.equal(''); // the group named "1x" does not exist
    expect(expandTemplate('$first$$', m)).to.equal('a$');
    expect(expandTemplate('${', m)).to.equal('${');
  });

  it('parses bucket bounds as Go ParseFloat does', () => {
    expect(parseGoFloat('+Inf')).to.equal(Infinity);
    expect(parseGoFloat('inf')).to.equal(Infinity);
    expect(parseGoFloat('0.5')).to.equal(0.5);
    expect(parseGoFloat('1e3')).to.equal(1000);
    expect(parseGoFloat('')).to.equal(null);
    expect(parseGoFloat('abc')).to.equal(null);
  });

  it('keeps one-step instant results in evaluation order (no sorting)', async () => {
    const out = await engine.instantQuery('v{k="c"} or v{k="a"}', 0);
    expect(rows(out.result)).to.deep.equal(['v{k="c"} NaN', 'v{k="a"} 1000000']);
  });
});

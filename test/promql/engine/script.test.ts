import { expect } from 'chai';
import { isStaleAt } from '../../../src/model/value.js';
import { expandValues, parseDurationMs, parseScript, parseSeriesHead } from '../../../src/promql/testing/script.js';

describe('PromQL test-script reader', () => {
  it('expands the series notation with its asymmetric counts and repeated addition', () => {
    expect(expandValues(['_x3'])).to.deep.equal([null, null, null]);
    expect(expandValues(['5x3'])).to.deep.equal([5, 5, 5, 5]);
    expect(expandValues(['0+10x3', '-2+1x2', '9-3x1'])).to.deep.equal([0, 10, 20, 30, -2, -1, 0, 9, 6]);
    let v = 0;
    const expected = [0];
    for (let i = 0; i < 10; i++) expected.push((v += 1.33));
    expect(expandValues(['0+1.33x10'])).to.deep.equal(expected);
    const special = expandValues(['Inf', '-inf', 'NaN', 'stale', '_', '.5', '1e3']);
    expect(special.slice(0, 2)).to.deep.equal([Infinity, -Infinity]);
    expect(Number.isNaN(special[2])).to.equal(true);
    expect(special.slice(3)).to.deep.equal(['stale', null, 0.5, 1000]);
    expect(() => expandValues(['NaNx3'])).to.throw(/invalid value/);
  });

  it('reads series heads with any quoting and a trailing comma', () => {
    const { labels, rest } = parseSeriesHead(`rule:x{a="q\\"uote", b='single', c=\`raw\\n\`,} 1 2`);
    expect(labels).to.deep.equal([
      { name: '__name__', value: 'rule:x' },
      { name: 'a', value: 'q"uote' },
      { name: 'b', value: 'single' },
      { name: 'c', value: 'raw\\n' },
    ]);
    expect(rest).to.equal('1 2');
    expect(parseSeriesHead('{} 5').labels).to.deep.equal([]);
  });

  it('parses durations, commands and expectations; later lines replace a series in one load', () => {
    expect(parseDurationMs('1h30m')).to.equal(5_400_000);
    expect(parseDurationMs('0')).to.equal(0);
    expect(() => parseDurationMs('1.5m')).to.throw();
    const commands = parseScript(
      [
        'load 1m',
        '  m{a="1"} 1 stale',
        '  m{a="1"} 7 _ 9',
        '',
        '# a comment ends a block',
        'eval_ordered instant at 2m m',
        '  m{a="1"} 9',
        '',
        'eval instant at 0s 1 + 1',
        '  2',
        '',
        'clear',
      ].join('\n'),
    );
    expect(commands.map((c) => c.kind)).to.deep.equal(['load', 'eval', 'eval', 'clear']);
    const load = commands[0]!;
    if (load.kind !== 'load') throw new Error('expected load');
    expect(load.series).to.have.length(1);
    expect(load.series[0]!.timestamps).to.deep.equal([0, 120_000]);
    expect(Array.from(load.series[0]!.values)).to.deep.equal([7, 9]);
    const ordered = commands[1]!;
    if (ordered.kind !== 'eval') throw new Error('expected eval');
    expect(ordered).to.include({ mode: 'eval_ordered', timeMs: 120_000, expr: 'm', scalar: null });
    const scalar = commands[2]!;
    if (scalar.kind !== 'eval') throw new Error('expected eval');
    expect(scalar.scalar).to.equal(2);
  });

  it('keeps the staleness marker bit pattern', () => {
    const [load] = parseScript('load 1m\n  m 1 stale');
    if (load?.kind !== 'load') throw new Error('expected load');
    expect(isStaleAt(load.series[0]!.values, 1)).to.equal(true);
    expect(isStaleAt(load.series[0]!.values, 0)).to.equal(false);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import {
  ParseError,
  exprType,
  formatExpr,
  hasNonEmptyMatcher,
  parseExpr,
  parseSeriesSelector,
} from '../../../src/promql/parser/index.js';
import { canonical } from './helpers.js';

describe('PromQL parser entry points', () => {
  describe('parseSeriesSelector', () => {
    it('returns the matchers of a bare selector, the written name last', () => {
      expect(parseSeriesSelector('up{job="a", env=~"p.*"}')).to.deep.equal([
        { type: '=', name: 'job', value: 'a' },
        { type: '=~', name: 'env', value: 'p.*' },
        { type: '=', name: '__name__', value: 'up' },
      ]);
      expect(parseSeriesSelector(' {__name__=~"a.*"} ')).to.deep.equal([{ type: '=~', name: '__name__', value: 'a.*' }]);
      expect(parseSeriesSelector('sum')).to.deep.equal([{ type: '=', name: '__name__', value: 'sum' }]);
    });

    it('leaves the non-empty check to the caller, as Prometheus does', () => {
      const matchers = parseSeriesSelector('{a=~".*"}');
      expect(hasNonEmptyMatcher(matchers)).to.equal(false);
      expect(hasNonEmptyMatcher(parseSeriesSelector('{a=~".+"}'))).to.equal(true);
    });

    it('rejects anything but a selector', () => {
      for (const bad of ['up[5m]', 'up offset 5m', 'sum(up)', 'up + 1', '1', '', 'up{a=~"("}']) {
        expect(() => parseSeriesSelector(bad), bad).to.throw(ParseError);
      }
      expect(() => parseSeriesSelector('up[5m]')).to.throw('1:3: parse error: unexpected "["');
    });
  });

  describe('exprType', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['1', 'scalar'],
      ['"a"', 'string'],
      ['x', 'vector'],
      ['x[5m]', 'matrix'],
      ['rate(x[5m])[1h:]', 'matrix'],
      ['1 + 2 * 3', 'scalar'],
      ['1 + x', 'vector'],
      ['-(1)', 'scalar'],
      ['time()', 'scalar'],
      ['scalar(x)', 'scalar'],
      ['sum(x)', 'vector'],
      ['(x[5m])', 'matrix'],
    ];
    for (const [q, t] of cases) it(`${q} is ${t}`, () => expect(exprType(parseExpr(q))).to.equal(t));
  });

  describe('formatExpr round trip on generated queries', () => {
    const name = fc.constantFrom('x', 'up', 'a:b', 'by', 'sum');
    const matcher = fc
      .tuple(fc.constantFrom('job', 'on', 'le'), fc.constantFrom('=', '!=', '=~', '!~'), fc.constantFrom('a', 'b.*', 'q"\\', 'é\n'))
      .map(([l, op, v]) => `${l}${op}${JSON.stringify(v)}`);
    const selector = fc
      .tuple(name, fc.array(matcher, { maxLength: 3 }))
      .map(([n, ms]) => (ms.length === 0 ? n : `${n}{${ms.join(', ')}}`));
    const duration = fc.constantFrom('5m', '1h30m', '90s', '1d', '250ms', '2w');
    const modifiers = fc
      .tuple(fc.option(duration, { nil: undefined }), fc.option(fc.constantFrom('@ 10', '@ -1.5', '@ start()', '@ end()'), { nil: undefined }), fc.boolean())
      .map(([off, at, negative]) => `${off ? ` offset ${negative ? '-' : ''}${off}` : ''}${at ? ` ${at}` : ''}`);
    const number = fc.constantFrom('1', '0.5', '1e6', '0x10', 'Inf', 'NaN', '1e-7');
    const { vector } = fc.letrec((tie) => ({
      vector: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.tuple(selector, modifiers).map(([s, m]) => `${s}${m}`),
        fc.tuple(fc.constantFrom('rate', 'max_over_time'), selector, duration, modifiers).map(([f, s, d, m]) => `${f}(${s}[${d}]${m})`),
        fc.tuple(fc.constantFrom('sum', 'avg', 'count'), fc.constantFrom('', ' by (job)', ' without (le, on)'), tie('vector')).map(([op, g, e]) => `${op}${g} (${e})`),
        fc.tuple(fc.constantFrom('topk', 'quantile'), number, tie('vector')).map(([op, p, e]) => `${op}(${p}, ${e})`),
        fc.tuple(tie('vector'), fc.constantFrom('+', '-', '*', '/', '^', '%', 'atan2', '==', '> bool', 'and', 'or', 'unless', '+ on (job)', '* ignoring (le) group_left (x)'), fc.oneof(tie('vector'), number)).map(([l, op, r]) => `${l} ${op} ${r}`),
        fc.tuple(fc.constantFrom('-', '+'), tie('vector')).map(([op, e]) => `${op}${e}`),
        tie('vector').map((e) => `(${e})`),
        fc.tuple(tie('vector'), duration, fc.constantFrom('', '1m')).map(([e, r, s]) => `max_over_time((${e})[${r}:${s}])`),
      ),
    }));

    it('parse(format(parse(q))) equals parse(q) and printing is stable', () => {
      let checked = 0;
      fc.assert(
        fc.property(vector, (q) => {
          let first;
          try {
            first = parseExpr(q);
          } catch (err) {
            if (err instanceof ParseError) return; // generated type errors are not the subject here
            throw err;
          }
          checked++;
          const printed = formatExpr(first);
          const again = parseExpr(printed);
          expect(canonical(again), `${q}\n${printed}`).to.deep.equal(canonical(first));
          expect(formatExpr(again)).to.equal(printed);
        }),
        { numRuns: 300, seed: 42 },
      );
      expect(checked).to.be.greaterThan(100);
    });
  });
});

import { expect } from 'chai';
import {
  MAX_NESTING_DEPTH,
  ParseError,
  exprType,
  formatExpr,
  parseExpr,
  parseSeriesSelector,
} from '../../../src/promql/parser/index.js';

const HUGE = 100_000;

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('PromQL nesting depth', () => {
  it(`is limited to ${MAX_NESTING_DEPTH} levels`, () => {
    expect(MAX_NESTING_DEPTH).to.equal(256);
  });

  const hostile: ReadonlyArray<readonly [string, string, string]> = [
    ['parentheses', '('.repeat(HUGE) + '1' + ')'.repeat(HUGE), 'expression nesting is too deep'],
    ['unary minus', '-'.repeat(HUGE) + '1', 'expression nesting is too deep'],
    ['function calls', 'abs('.repeat(HUGE) + 'x' + ')'.repeat(HUGE), 'expression nesting is too deep'],
    ['power chains', Array.from({ length: HUGE }, () => '2').join('^'), 'expression nesting is too deep'],
    ['unclosed parentheses', '('.repeat(HUGE), 'expression nesting is too deep'],
    ['braces', '{'.repeat(HUGE), "unexpected left brace '{'"],
    ['brackets', 'x' + '['.repeat(HUGE), 'missing unit character in duration'],
    ['bracket pairs', 'x' + '[5m]'.repeat(HUGE), 'ranges only allowed for vector selectors'],
  ];
  for (const [name, query, reason] of hostile) {
    it(`rejects ${HUGE.toLocaleString('en')} levels of ${name} with a ParseError`, () => {
      const err = errorOf(() => parseExpr(query));
      expect(err).to.be.instanceOf(ParseError);
      expect((err as ParseError).reason).to.contain(reason);
    });
  }

  it('rejects deep nesting in series selectors too', () => {
    expect(errorOf(() => parseSeriesSelector('{'.repeat(HUGE)))).to.be.instanceOf(ParseError);
  });

  it('points at the first token past the limit', () => {
    const err = errorOf(() => parseExpr('('.repeat(MAX_NESTING_DEPTH + 1) + '1' + ')'.repeat(MAX_NESTING_DEPTH + 1)));
    expect((err as ParseError).pos.start).to.equal(MAX_NESTING_DEPTH);
  });

  it('accepts nesting up to the limit', () => {
    const n = MAX_NESTING_DEPTH;
    expect(parseExpr('('.repeat(n) + '1' + ')'.repeat(n)).kind).to.equal('ParenExpr');
    expect(parseExpr('-'.repeat(n) + 'x').kind).to.equal('UnaryExpr');
    expect(parseExpr('abs('.repeat(n) + 'x' + ')'.repeat(n)).kind).to.equal('Call');
    expect(parseExpr(Array.from({ length: n + 1 }, () => '2').join(' ^ ')).kind).to.equal('BinaryExpr');
    expect(() => parseExpr('('.repeat(n + 1) + '1' + ')'.repeat(n + 1))).to.throw(ParseError);
    expect(() => parseExpr('-'.repeat(n + 1) + 'x')).to.throw(ParseError);
  });

  it('does not count binary operators or signed operands in flat chains', () => {
    const flat = Array.from({ length: 2 * MAX_NESTING_DEPTH }, (_, i) => `-x${i}`).join(' - ');
    expect(parseExpr(flat).kind).to.equal('BinaryExpr');
    const offsets = Array.from({ length: MAX_NESTING_DEPTH }, (_, i) => `x${i} offset -1m`).join(' + ');
    expect(parseExpr(offsets).kind).to.equal('BinaryExpr');
  });

  it('checks, types and prints long operator chains without recursion', function () {
    this.timeout(20_000);
    const terms = 20_000;
    const chain = Array.from({ length: terms }, (_, i) => (i % 2 === 0 ? 'x' : '1')).join(' + ');
    const expr = parseExpr(chain);
    expect(exprType(expr)).to.equal('vector');
    expect(formatExpr(expr)).to.equal(chain);
    const bad = `${chain} + x[5m]`;
    expect(() => parseExpr(bad)).to.throw(ParseError, 'binary expression must contain only scalar and instant vector types');
  });
});

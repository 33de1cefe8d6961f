import { expect } from 'chai';
import type { Expr } from '../../../src/promql/parser/index.js';
import { checkExpr } from '../../../src/promql/parser/check.js';
import {
  MAX_EXPR_DEPTH,
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

  it(`limits the expression tree to ${MAX_EXPR_DEPTH} levels, after type checking`, function () {
    this.timeout(20_000);
    const chain = (terms: number): string => Array.from({ length: terms }, (_, i) => (i % 2 === 0 ? 'x' : '1')).join(' + ');
    expect(parseExpr(chain(MAX_EXPR_DEPTH)).kind).to.equal('BinaryExpr');
    const tooLong = errorOf(() => parseExpr(chain(MAX_EXPR_DEPTH + 1)));
    expect(tooLong).to.be.instanceOf(ParseError);
    expect((tooLong as ParseError).reason).to.contain('expression is too deep');
    expect(errorOf(() => parseExpr(chain(5_000)))).to.be.instanceOf(ParseError);
    // Prometheus's own errors come first.
    expect(() => parseExpr(`${chain(5_000)} + x[5m]`)).to.throw(
      ParseError,
      'binary expression must contain only scalar and instant vector types',
    );
  });

  it('checks, types and prints very deep trees without recursion', () => {
    const levels = 50_000;
    const pos = { start: 0, end: 1 };
    let expr: Expr = { kind: 'NumberLiteral', value: 1, pos };
    for (let i = 0; i < levels; i++) {
      const rhs: Expr = { kind: 'NumberLiteral', value: 2, pos };
      expr = { kind: 'BinaryExpr', op: '+', lhs: expr, rhs, returnBool: false, matching: null, pos };
    }
    expect(checkExpr(expr)).to.equal('scalar');
    expect(exprType(expr)).to.equal('scalar');
    const printed = formatExpr(expr);
    expect(printed.length).to.equal(1 + levels * 4);
    expect(printed.startsWith('1 + 2 + 2')).to.equal(true);
  });
});

import { expect } from 'chai';
import { MetricstorError } from '../../../src/errors.js';
import { ParseError, parseExpr } from '../../../src/promql/parser/index.js';
import { ERROR_CASES, type ErrorTable } from './error-cases.js';
import { parseErrorOf } from './helpers.js';


function runTable(table: ErrorTable): void {
  for (const [query, message] of table) {
    it(`${JSON.stringify(query)}  =>  ${message}`, () => {
      expect(parseErrorOf(query)).to.equal(message);
    });
  }
}

describe('PromQL parse errors', () => {
  it('are ParseErrors of type bad_data with the position range of the culprit', () => {
    let caught: unknown;
    try {
      parseExpr('sum(x) + rate(y)');
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ParseError);
    expect(caught).to.be.instanceOf(MetricstorError);
    const err = caught as ParseError;
    expect(err.type).to.equal('bad_data');
    expect(err.pos).to.deep.equal({ start: 14, end: 15 });
    expect(err.reason).to.equal('expected type range vector in call to function "rate", got instant vector');
    expect(err.message).to.equal(`1:15: parse error: ${err.reason}`);
  });

  it('count columns in UTF-8 bytes and lines from 1', () => {
    expect(parseErrorOf('x{a="é"} + "s"')).to.equal(
      '1:13: parse error: binary expression must contain only scalar and instant vector types',
    );
    expect(parseErrorOf('x\n  + on(a)\n  1')).to.equal(
      '1:1: parse error: vector matching only allowed between instant vectors',
    );
    expect(parseErrorOf('x +\n\n  rate(y)')).to.equal(
      '3:8: parse error: expected type range vector in call to function "rate", got instant vector',
    );
  });

  describe('binary operators', () => {
    runTable(ERROR_CASES.binaryOperators);
  });

  describe('function calls', () => {
    runTable(ERROR_CASES.functionCalls);
  });

  describe('aggregations', () => {
    runTable(ERROR_CASES.aggregations);
  });

  describe('unary operators and subqueries', () => {
    runTable(ERROR_CASES.unaryAndSubqueries);
  });

  describe('selectors and ranges', () => {
    runTable(ERROR_CASES.selectorsAndRanges);

    it('rejects invalid regular expressions', () => {
      expect(parseErrorOf('x{a=~"("}')).to.match(/^1:3: parse error: invalid regular expression "\(":/);
    });
  });

  describe('offset and @', () => {
    runTable(ERROR_CASES.offsetAndAt);
  });

  describe('general syntax', () => {
    runTable(ERROR_CASES.generalSyntax);

    it('reports a syntax error before a later lexical error', () => {
      expect(parseErrorOf('a b "unterminated')).to.equal('1:3: parse error: unexpected identifier "b"');
      expect(parseErrorOf('a + "unterminated')).to.equal('1:5: parse error: unterminated quoted string');
    });
  });
});

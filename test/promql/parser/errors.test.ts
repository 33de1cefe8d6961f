import { expect } from 'chai';
import { MetricstorError } from '../../../src/errors.js';
import { ParseError, parseExpr } from '../../../src/promql/parser/index.js';
import { parseErrorOf } from './helpers.js';

/** [query, exact message] — one or more per class of error Prometheus reports at parse time. */
type ErrorTable = ReadonlyArray<readonly [string, string]>;

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
    runTable([
      ['a + bool b', '1:3: parse error: bool modifier can only be used on comparison operators'],
      ['1 == 1', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
      ['a + on(x) group_left(x) b', '1:3: parse error: label "x" must not occur in ON and GROUP clause at once'],
      ['x[5m] + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
      ['1 + x[5m]', '1:5: parse error: binary expression must contain only scalar and instant vector types'],
      ['"a" * x', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
      ['1 + on(x) a', '1:1: parse error: vector matching only allowed between instant vectors'],
      ['a and on(x) group_left b', '1:1: parse error: no grouping allowed for "and" operation'],
      ['a or ignoring(x) group_right(y) b', '1:1: parse error: no grouping allowed for "or" operation'],
      ['1 and a', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
      ['a unless 1', '1:1: parse error: set operator "unless" not allowed in binary scalar expression'],
      ['a * group_left b', '1:5: parse error: unexpected <group_left>'],
      ['a - on(b) ignoring(c) d', '1:11: parse error: unexpected <ignoring>'],
    ]);
  });

  describe('function calls', () => {
    runTable([
      ['foo(bar)', '1:1: parse error: unknown function with name "foo"'],
      ['floor()', '1:1: parse error: expected 1 argument(s) in call to "floor", got 0'],
      ['floor(a, b)', '1:1: parse error: expected 1 argument(s) in call to "floor", got 2'],
      ['time(a)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
      ['hour(a, b, c)', '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'],
      ['round(a, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'],
      ['label_join(a)', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1'],
      ['floor(1)', '1:7: parse error: expected type instant vector in call to function "floor", got scalar'],
      ['rate(x)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
      ['abs(x[5m])', '1:5: parse error: expected type instant vector in call to function "abs", got range vector'],
      [
        'label_replace(x, 1, "a", "b", "c")',
        '1:18: parse error: expected type string in call to function "label_replace", got scalar',
      ],
      [
        'label_join(x, "d", ",", "a", 1)',
        '1:30: parse error: expected type string in call to function "label_join", got scalar',
      ],
      ['topk(3, x,)', '1:10: parse error: trailing commas not allowed in function call args'],
      ['start()', '1:6: parse error: unexpected "("'],
    ]);
  });

  describe('aggregations', () => {
    runTable([
      ['sum()', '1:1: parse error: no arguments for aggregate expression provided'],
      ['topk(x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
      ['sum(x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'],
      ['sum(1)', '1:5: parse error: expected type instant vector in aggregation expression, got scalar'],
      ['avg(x[5m])', '1:5: parse error: expected type instant vector in aggregation expression, got range vector'],
      ['topk(x, y)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
      ['quantile("a", y)', '1:10: parse error: expected type scalar in aggregation parameter, got string'],
      ['count_values(5, x)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
      ['sum without (a) (x) by (b)', '1:21: parse error: unexpected <by>'],
      ['sum some_metric by (test)', '1:5: parse error: unexpected identifier "some_metric"'],
      ['sum (x) by test', '1:12: parse error: unexpected identifier "test" in grouping opts, expected "("'],
      ['sum by (a:b) (x)', '1:9: parse error: unexpected metric identifier "a:b" in grouping opts, expected label'],
      ['sum without(a,,)(x)', '1:15: parse error: unexpected "," in grouping opts, expected label'],
      ['sum by (a b) (x)', '1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'],
    ]);
  });

  describe('unary operators and subqueries', () => {
    runTable([
      ['-"a"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
      ['-x[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
      ['x[5m][5m:]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
      ['"a"[5m:]', '1:1: parse error: subquery is only allowed on instant vector, got string instead'],
    ]);
  });

  describe('selectors and ranges', () => {
    runTable([
      ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
      ['{a=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
      ['x + {a=~".*"}', '1:5: parse error: vector selector must contain at least one non-empty matcher'],
      ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
      ['(x)[5m]', '1:4: parse error: ranges only allowed for vector selectors'],
      ['x[5m][5m]', '1:6: parse error: ranges only allowed for vector selectors'],
      ['x offset 1m [5m]', '1:13: parse error: no offset modifiers allowed before range'],
      ['x @ 1 [5m]', '1:7: parse error: no @ modifiers allowed before range'],
      ['x[5m:1m:1m]', "1:8: parse error: unexpected colon ':'"],
      ['x[5]', '1:3: parse error: missing unit character in duration'],
      ['x[5mm]', '1:3: parse error: bad duration syntax: "5mm"'],
      ['x[5m1h]', '1:3: parse error: not a valid duration string: "5m1h"'],
      ['x[5m', '1:5: parse error: unclosed left bracket'],
      ['x{a="b"', '1:8: parse error: unexpected end of input inside braces'],
      ['x{a=b}', '1:5: parse error: unexpected identifier "b" in label matching, expected string'],
      ['x{a}', '1:4: parse error: unexpected "}" in label matching, expected label matching operator'],
      ['a{,}', '1:3: parse error: unexpected "," in label matching, expected identifier or "}"'],
      ['x{a="b" c}', '1:9: parse error: unexpected identifier "c" in label matching, expected "," or "}"'],
      ['x{a*"b"}', "1:4: parse error: unexpected character inside braces: '*'"],
      ['x{{', "1:3: parse error: unexpected left brace '{'"],
    ]);

    it('rejects invalid regular expressions', () => {
      expect(parseErrorOf('x{a=~"("}')).to.match(/^1:3: parse error: invalid regular expression "\(":/);
    });
  });

  describe('offset and @', () => {
    runTable([
      [
        '1 offset 5m',
        '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      ],
      [
        '(x) offset 5m',
        '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      ],
      ['x offset 1m offset 2m', '1:1: parse error: offset may not be set multiple times'],
      ['x[5m:] offset 1m offset 2m', '1:1: parse error: offset may not be set multiple times'],
      ['rate(x[5m] offset 1m offset 1m)', '1:6: parse error: offset may not be set multiple times'],
      ['x offset 1', '1:10: parse error: unexpected number "1" in offset, expected duration'],
      ['x offset', '1:9: parse error: unexpected end of input in offset, expected duration'],
      [
        'sum(x) @ 5',
        '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      ],
      ['x @ 1 @ 2', '1:1: parse error: @ <timestamp> may not be set multiple times'],
      ['x @ start() @ end()', '1:1: parse error: @ <timestamp> may not be set multiple times'],
      ['x @ NaN', '1:1: parse error: timestamp out of bounds for @ modifier: NaN'],
      ['x @ -Inf', '1:1: parse error: timestamp out of bounds for @ modifier: -Inf'],
      ['x @ 1e20', '1:1: parse error: timestamp out of bounds for @ modifier: 100000000000000000000.000000'],
      ['x[5m] @ 1m', '1:9: parse error: unexpected duration "1m" in @, expected timestamp'],
      ['x[5m:] @', '1:9: parse error: unexpected end of input in @, expected timestamp'],
      ['x @ start', '1:10: parse error: unexpected end of input in @, expected timestamp'],
      ['x @ (1)', '1:5: parse error: unexpected "(" in @, expected timestamp'],
    ]);
  });

  describe('general syntax', () => {
    runTable([
      ['', '1:1: parse error: no expression found in input'],
      ['# just a comment\n\n', '1:1: parse error: no expression found in input'],
      ['1+', '1:3: parse error: unexpected end of input'],
      ['*1', '1:1: parse error: unexpected <op:*>'],
      ['(1))', "1:5: parse error: unexpected right parenthesis ')'"],
      ['((1)', '1:5: parse error: unclosed left parenthesis'],
      ['100..4', '1:5: parse error: unexpected number ".4"'],
      ['1 !~ 1', "1:3: parse error: unexpected character after '!': '~'"],
      ['1 =~ 1', "1:3: parse error: unexpected character after '=': '~'"],
      ['-=', '1:2: parse error: unexpected "="'],
      ['x $ y', "1:3: parse error: unexpected character: '$'"],
      ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
      ['5m', '1:1: parse error: unexpected duration "5m"'],
      ['"abcdefghijklmn" x', '1:18: parse error: unexpected identifier "x"'],
      ['x "abcdefghijklmn"', '1:3: parse error: unexpected string "\\"abcdefghi"...'],
      ['sum(x', '1:6: parse error: unclosed left parenthesis'],
      ['x ] y', "1:3: parse error: unexpected right bracket ']'"],
    ]);

    it('reports a syntax error before a later lexical error', () => {
      expect(parseErrorOf('a b "unterminated')).to.equal('1:3: parse error: unexpected identifier "b"');
      expect(parseErrorOf('a + "unterminated')).to.equal('1:5: parse error: unterminated quoted string');
    });
  });
});

import { expect } from 'chai';
import { parseDuration, parseExpr } from '../../../src/promql/parser/index.js';
import { formatDuration, formatNumber } from '../../../src/promql/parser/literals.js';
import { parseErrorOf } from './helpers.js';

function numberOf(query: string): number {
  const e = parseExpr(query);
  if (e.kind !== 'NumberLiteral') throw new Error(`not a number literal: ${e.kind}`);
  return e.value;
}

function stringOf(query: string): string {
  const e = parseExpr(query);
  if (e.kind !== 'StringLiteral') throw new Error(`not a string literal: ${e.kind}`);
  return e.value;
}

describe('PromQL literals', () => {
  describe('numbers', () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ['1', 1],
      ['1.5', 1.5],
      ['.5', 0.5],
      ['5.', 5],
      ['1e3', 1000],
      ['1E-3', 0.001],
      ['2.5e+2', 250],
      ['0x1f', 31],
      ['0XFF', 255],
      ['010', 8],
      ['08', 8],
      ['0', 0],
      ['-7', -7],
      ['+7', 7],
      ['9007199254740993', 9007199254740992],
      ['99999999999999999999', 1e20],
    ];
    for (const [text, value] of cases) {
      it(`${text} is ${value}`, () => expect(numberOf(text)).to.equal(value));
    }

    it('reads Inf and NaN in any case, with signs', () => {
      for (const t of ['Inf', 'inf', 'INF', '+Inf']) expect(numberOf(t)).to.equal(Infinity);
      for (const t of ['-Inf', '-iNf']) expect(numberOf(t)).to.equal(-Infinity);
      for (const t of ['NaN', 'nan', 'NAN']) expect(numberOf(t)).to.be.NaN;
    });

    it('treats longer words starting with inf or nan as metric names', () => {
      expect(parseExpr('infinity').kind).to.equal('VectorSelector');
      expect(parseExpr('nano').kind).to.equal('VectorSelector');
    });

    it('rejects malformed numbers in Prometheus words', () => {
      expect(parseErrorOf('0deadbeef')).to.equal('1:1: parse error: bad number or duration syntax: "0de"');
      expect(parseErrorOf('2.5.')).to.equal("1:4: parse error: unexpected character: '.'");
      expect(parseErrorOf('1e999')).to.match(/^1:1: parse error: error parsing number: .*value out of range$/);
      expect(parseErrorOf('0x')).to.equal(
        '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax',
      );
      expect(parseErrorOf('1 + 1e')).to.equal(
        '1:5: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax',
      );
    });

    it('prints numbers like Go', () => {
      const printed: ReadonlyArray<readonly [number, string]> = [
        [1, '1'],
        [-0, '-0'],
        [0.1, '0.1'],
        [123456, '123456'],
        [1234567, '1.234567e+06'],
        [1e21, '1e+21'],
        [0.0001, '0.0001'],
        [0.00001234, '1.234e-05'],
        [1e-300, '1e-300'],
        [Infinity, '+Inf'],
        [-Infinity, '-Inf'],
        [NaN, 'NaN'],
      ];
      for (const [v, s] of printed) expect(formatNumber(v), String(v)).to.equal(s);
    });
  });

  describe('durations', () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ['500ms', 500],
      ['5s', 5_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['1w', 604_800_000],
      ['1y', 31_536_000_000],
      ['1h30m', 5_400_000],
      ['1d2h3m4s5ms', 93_784_005],
      ['0', 0],
    ];
    for (const [text, ms] of cases) {
      it(`parseDuration(${text}) is ${ms} ms`, () => expect(parseDuration(text)).to.equal(ms));
    }

    it('rejects units out of order, repeated, or unknown', () => {
      for (const bad of ['5m1h', '5m1m', '1.5h', 'h', '5', '-5m', '5M', '']) {
        expect(() => parseDuration(bad), bad).to.throw();
      }
      expect(() => parseDuration('5m1h')).to.throw('not a valid duration string: "5m1h"');
    });

    it('uses combined durations in ranges, offsets and subqueries', () => {
      const e = parseExpr('max_over_time(x[1h30m] offset 2d12h)');
      if (e.kind !== 'Call' || e.args[0]!.kind !== 'MatrixSelector') throw new Error('unexpected shape');
      expect(e.args[0].rangeMs).to.equal(5_400_000);
      expect(e.args[0].vector.offsetMs).to.equal(216_000_000);
    });

    it('rejects zero durations in queries, as Prometheus does', () => {
      expect(parseErrorOf('x[0s]')).to.equal('1:3: parse error: duration must be greater than 0');
      expect(parseErrorOf('x offset 0s')).to.equal('1:10: parse error: duration must be greater than 0');
    });

    it('prints durations in canonical units', () => {
      expect(formatDuration(5_400_000)).to.equal('1h30m');
      expect(formatDuration(90 * 86_400_000)).to.equal('90d');
      expect(formatDuration(14 * 86_400_000)).to.equal('2w');
      expect(formatDuration(365 * 86_400_000)).to.equal('1y');
      expect(formatDuration(1_500)).to.equal('1s500ms');
      expect(formatDuration(0)).to.equal('0s');
    });
  });

  describe('strings', () => {
    it('reads double-, single- and back-quoted strings', () => {
      expect(stringOf('"a b"')).to.equal('a b');
      expect(stringOf("'a b'")).to.equal('a b');
      expect(stringOf('`a b`')).to.equal('a b');
    });

    it('decodes Go escapes in quoted strings', () => {
      expect(stringOf('"\\a\\b\\f\\n\\r\\t\\v\\\\\\""')).to.equal('\x07\b\f\n\r\t\v\\"');
      expect(stringOf("'it\\'s'")).to.equal("it's");
      expect(stringOf('"\\u00e9\\U0001F600"')).to.equal('é😀');
      expect(stringOf('"\\xc3\\xa9"')).to.equal('é');
      expect(stringOf('"\\303\\251"')).to.equal('é');
      expect(stringOf('"é"')).to.equal('é');
    });

    it('keeps back-quoted strings raw, newlines included', () => {
      expect(stringOf('`a\\nb\nc`')).to.equal('a\\nb\nc');
    });

    it('rejects bad escapes and unterminated strings in Prometheus words', () => {
      expect(parseErrorOf('"\\c"')).to.equal("1:1: parse error: unknown escape sequence U+0063 'c'");
      expect(parseErrorOf('"\\x4"')).to.equal('1:1: parse error: illegal character U+0022 \'"\' in escape sequence');
      expect(parseErrorOf('"\\\'"')).to.equal("1:1: parse error: unknown escape sequence U+0027 '''");
      expect(parseErrorOf('x + "abc')).to.equal('1:5: parse error: unterminated quoted string');
      expect(parseErrorOf('"a\nb"')).to.equal('1:1: parse error: unterminated quoted string');
      expect(parseErrorOf('`abc')).to.equal('1:1: parse error: unterminated raw string');
      expect(parseErrorOf('"\\ud800"')).to.equal('1:1: parse error: escape sequence is an invalid Unicode code point');
    });
  });
});

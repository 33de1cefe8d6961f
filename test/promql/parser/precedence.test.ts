import { expect } from 'chai';
import { shapeOf } from './helpers.js';

describe('PromQL operator precedence and associativity', () => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ['a + b * c', '(a + (b * c))'],
    ['a * b + c', '((a * b) + c)'],
    ['a - b - c', '((a - b) - c)'],
    ['a / b / c', '((a / b) / c)'],
    ['a % b * c', '((a % b) * c)'],
    ['a atan2 b * c', '((a atan2 b) * c)'],
    ['a + b atan2 c', '(a + (b atan2 c))'],
    ['a ^ b ^ c', '(a ^ (b ^ c))'],
    ['a * b ^ c', '(a * (b ^ c))'],
    ['a ^ b * c', '((a ^ b) * c)'],
    ['-a ^ b', '(-(a ^ b))'],
    ['-2 ^ 2', '(-(2 ^ 2))'],
    ['2 ^ -1', '(2 ^ -1)'],
    ['2 ^ -a ^ b', '(2 ^ (-(a ^ b)))'],
    ['2 ^ -a * b', '((2 ^ (-a)) * b)'],
    ['-a * b', '((-a) * b)'],
    ['-a + b', '((-a) + b)'],
    ['- - a', '(-(-a))'],
    ['+a', '(+a)'],
    ['- -1', '1'],
    ['a + b > c', '((a + b) > c)'],
    ['a > b + c', '(a > (b + c))'],
    ['a == b != c', '((a == b) != c)'],
    ['a > bool b < bool c', '((a > bool b) < bool c)'],
    ['a > b and c', '((a > b) and c)'],
    ['a and b > c', '(a and (b > c))'],
    ['a and b unless c', '((a and b) unless c)'],
    ['a unless b and c', '((a unless b) and c)'],
    ['a or b and c', '(a or (b and c))'],
    ['a and b or c', '((a and b) or c)'],
    ['a or b or c', '((a or b) or c)'],
    ['(a + b) * c', '([(a + b)] * c)'],
    ['a * (b + c)', '(a * [(b + c)])'],
    ['a + b offset 5m', '(a + b offset 5m)'],
    ['-a offset 5m', '(-a offset 5m)'],
    ['a ^ b offset 5m', '(a ^ b offset 5m)'],
    ['-rate(x[5m:])', '(-rate(x[5m:]))'],
  ];
  for (const [query, want] of table) {
    it(`${query}  =>  ${want}`, () => {
      expect(shapeOf(query)).to.equal(want);
    });
  }

  it('keeps operators case-insensitive and whole-word', () => {
    expect(shapeOf('a AND b Or c UNLESS d')).to.equal('((a and b) or (c unless d))');
    expect(shapeOf('a + andy')).to.equal('(a + andy)');
  });
});

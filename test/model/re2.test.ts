import { expect } from 'chai';
import { compileRegex } from '../../src/model/matchers.js';

describe('RE2 regex translation', () => {
  const cases: [pattern: string, input: string, matches: boolean][] = [
    ['(?i:PRO).*', 'production', true],
    ['.*(?i:duc).*', 'proDUCtion', true],
    ['((?i)PRO)x', 'proX', false],
    ['((?i)PRO)x', 'PrOx', true],
    ['(?i)[a-c]+', 'AbC', true],
    ['[[:digit:]]+', '0123', true],
    ['[[:digit:]]+', '01a', false],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['(?P<first>x)y', 'xy', true],
    ['a-b|c', 'a-b', true],
    ['\\pLx', 'éx', true],
  ];
  for (const [pattern, input, matches] of cases) {
    it(`${pattern} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(input)}`, () => {
      expect(compileRegex(pattern).test(input)).to.equal(matches);
    });
  }

  it('rejects unknown flags and broken classes as bad_data', () => {
    expect(() => compileRegex('(?x)a')).to.throw(/invalid regular expression/);
    expect(() => compileRegex('[abc')).to.throw(/invalid regular expression/);
  });
});

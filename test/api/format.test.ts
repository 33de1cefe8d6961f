import { expect } from 'chai';
import {
  compareUtf8,
  formatFloatF,
  formatResultTimestamp,
  formatSampleTimestamp,
  formatSampleValue,
  jsonEncode,
  jsonString,
} from '../../src/api/format.js';

// Expected strings are what Go's strconv.FormatFloat / Prometheus's jsonutil produce for each input.
describe('api/format', () => {
  describe('sample values (jsonutil.MarshalFloat)', () => {
    const cases: [number, string][] = [
      [1, '1'],
      [0, '0'],
      [-0, '-0'],
      [0.5, '0.5'],
      [-2.25, '-2.25'],
      [1e6, '1000000'],
      [1e20, '100000000000000000000'],
      [1e21, '1e+21'],
      [1.5e300, '1.5e+300'],
      [1e-6, '0.000001'],
      [1e-7, '1e-07'],
      [1.5e-7, '1.5e-07'],
      [-1.5e-10, '-1.5e-10'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [0.1 + 0.2, '0.30000000000000004'],
      [123456789.123, '123456789.123'],
      [NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
    ];
    for (const [v, want] of cases) {
      it(`${String(v)} → ${want}`, () => expect(formatSampleValue(v)).to.equal(want));
    }
  });

  describe("scalar values (FormatFloat 'f', -1)", () => {
    const cases: [number, string][] = [
      [2, '2'],
      [-0, '-0'],
      [1e21, '1000000000000000000000'],
      [1.2345e22, '12345000000000000000000'],
      [1e-7, '0.0000001'],
      [1.5e-7, '0.00000015'],
      [-2.5e-8, '-0.000000025'],
      [5e-324, `0.${'0'.repeat(323)}5`],
      [0.000123, '0.000123'],
      [NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
    ];
    for (const [v, want] of cases) {
      it(`${String(v)} → ${want.length > 30 ? `${want.slice(0, 30)}…` : want}`, () => expect(formatFloatF(v)).to.equal(want));
    }
  });

  it('writes sample timestamps with a zero-padded millisecond part', () => {
    expect(formatSampleTimestamp(1435781451781)).to.equal('1435781451.781');
    expect(formatSampleTimestamp(1435781451050)).to.equal('1435781451.050');
    expect(formatSampleTimestamp(1435781451000)).to.equal('1435781451');
    expect(formatSampleTimestamp(5)).to.equal('0.005');
    expect(formatSampleTimestamp(-500)).to.equal('-0.500');
    expect(formatSampleTimestamp(-1500)).to.equal('-1.500');
    expect(formatSampleTimestamp(0)).to.equal('0');
  });

  it('writes scalar/string timestamps as the shortest float', () => {
    expect(formatResultTimestamp(4000)).to.equal('4');
    expect(formatResultTimestamp(1500)).to.equal('1.5');
    expect(formatResultTimestamp(1435781451050)).to.equal('1435781451.05');
  });

  it('escapes strings the way Go does (HTML-safe)', () => {
    expect(jsonString('a<b>&c')).to.equal('"a\\u003cb\\u003e\\u0026c"');
    expect(jsonString('line\u2028sep')).to.equal('"line\\u2028sep"');
    expect(jsonString('quote " backslash \\')).to.equal('"quote \\" backslash \\\\"');
    expect(jsonEncode({ v: ['<x>'] })).to.equal('{"v":["\\u003cx\\u003e"]}');
    expect(JSON.parse(jsonEncode({ v: 'a&b' }))).to.deep.equal({ v: 'a&b' });
  });

  it('sorts strings in UTF-8 byte order, as Go does', () => {
    const values = ['b', '\u{1F600}', '\uFF01', 'a', '\u00e9', 'ab', ''];
    const byBytes = [...values].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...values].sort(compareUtf8)).to.deep.equal(byBytes);
    expect(byBytes.indexOf('\uFF01')).to.be.lessThan(byBytes.indexOf('\u{1F600}'));
    expect([...values].sort()).to.not.deep.equal(byBytes); // the default order would be wrong
  });
});

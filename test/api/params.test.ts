import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import {
  limitParam,
  MAX_TIME_MS,
  MAX_TIME_TEXT,
  MIN_TIME_MS,
  MIN_TIME_TEXT,
  optionalTimeParam,
  parseDurationNs,
  parseTime,
  rangeParams,
  RequestParams,
} from '../../src/api/params.js';
import { parseDuration } from '../../src/promql/parser/index.js';

function params(query: string, body = ''): RequestParams {
  return new RequestParams([new URLSearchParams(body), new URLSearchParams(query)]);
}

function badDataMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(MetricstorError);
    expect((err as MetricstorError).type).to.equal('bad_data');
    return (err as MetricstorError).message;
  }
  throw new Error('expected a bad_data error');
}

describe('api/params', () => {
  describe('parseTime', () => {
    const good: [string, number][] = [
      ['0', 0],
      ['1435781451', 1435781451000],
      ['1435781451.781', 1435781451781],
      ['1435781451.7815', 1435781451782], // fraction rounded to ms
      ['-0.0025', -3], // fraction rounded to ms, half away from zero
      ['-1.5', -1500],
      ['-0.0005', -1],
      ['1e9', 1e12],
      ['+12.25', 12250],
      ['.5', 500],
      ['2015-07-01T20:10:51.781Z', 1435781451781],
      ['2015-07-01T20:10:51Z', 1435781451000],
      ['2015-07-01T22:10:51.781+02:00', 1435781451781],
      ['2015-07-01T18:40:51.781-01:30', 1435781451781],
      ['2015-07-01T20:10:51.781999999Z', 1435781451781], // sub-ms digits are cut, not rounded
      ['0001-01-01T00:00:00Z', -62135596800000],
      [MIN_TIME_TEXT, MIN_TIME_MS],
      [MAX_TIME_TEXT, MAX_TIME_MS],
      ['Inf', MAX_TIME_MS],
      ['-Inf', MIN_TIME_MS],
      ['1e300', MAX_TIME_MS],
    ];
    for (const [text, ms] of good) {
      it(`${text} → ${ms}`, () => expect(parseTime(text)).to.equal(ms));
    }

    const bad = ['', 'abc', 'NaN', '0x10', '1e400', '1_000', ' 1', '2015-02-30T00:00:00Z', '2015-07-01 20:10:51Z', '2015-07-01T24:00:00Z', '2015-07-01T20:10:51'];
    for (const text of bad) {
      it(`rejects ${JSON.stringify(text)}`, () => {
        expect(badDataMessage(() => parseTime(text))).to.equal(`cannot parse ${JSON.stringify(text)} to a valid timestamp`);
      });
    }
  });

  it('wraps optional time errors as Prometheus does and defaults when absent', () => {
    expect(optionalTimeParam(params(''), 'time', 42)).to.equal(42);
    expect(badDataMessage(() => optionalTimeParam(params('time=x'), 'time', 0))).to.equal(
      `invalid parameter "time": Invalid time value for 'time': cannot parse "x" to a valid timestamp`,
    );
  });

  it('takes body values before query-string values and keeps repeats', () => {
    const p = params('query=fromQuery&match[]=a', 'query=fromBody&match[]=b');
    expect(p.get('query')).to.equal('fromBody');
    expect(p.getAll('match[]')).to.deep.equal(['b', 'a']);
    expect(p.get('absent')).to.equal('');
  });

  describe('durations', () => {
    const good: [string, number][] = [
      ['15', 15e9],
      ['0.5', 5e8],
      ['1e3', 1e12],
      ['1m30s', 90e9],
      ['1h', 3600e9],
      ['2d', 2 * 86400e9],
      ['1y', 365 * 86400e9],
      ['100ms', 1e8],
      ['0', 0],
    ];
    for (const [text, ns] of good) {
      it(`${text} → ${ns} ns`, () => expect(parseDurationNs(text, parseDuration)).to.equal(ns));
    }
    for (const text of ['', 'abc', '1.5m', '-1m', 's1', '1m1h']) {
      it(`rejects ${JSON.stringify(text)}`, () => {
        expect(badDataMessage(() => parseDurationNs(text, parseDuration))).to.equal(
          `cannot parse ${JSON.stringify(text)} to a valid duration`,
        );
      });
    }
    it('rejects float seconds that overflow int64 nanoseconds', () => {
      expect(badDataMessage(() => parseDurationNs('1e10', parseDuration))).to.equal(
        'cannot parse "1e10" to a valid duration. It overflows int64',
      );
    });
  });

  describe('range parameters', () => {
    it('accepts exactly 11,000 steps and refuses one more', () => {
      expect(rangeParams(params('start=0&end=11000&step=1'), parseDuration)).to.deep.equal({
        startMs: 0,
        endMs: 11_000_000,
        stepMs: 1000,
      });
      expect(badDataMessage(() => rangeParams(params('start=0&end=11001&step=1'), parseDuration))).to.equal(
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
      // Go divides whole nanoseconds: 11000.999 steps still pass.
      expect(rangeParams(params('start=0&end=11000.999&step=1'), parseDuration).endMs).to.equal(11_000_999);
    });

    it('checks start, end, order and step in Prometheus order with its texts', () => {
      expect(badDataMessage(() => rangeParams(params('end=1&step=1'), parseDuration))).to.equal(
        'invalid parameter "start": cannot parse "" to a valid timestamp',
      );
      expect(badDataMessage(() => rangeParams(params('start=1&end=x&step=1'), parseDuration))).to.equal(
        'invalid parameter "end": cannot parse "x" to a valid timestamp',
      );
      expect(badDataMessage(() => rangeParams(params('start=2&end=1&step=1'), parseDuration))).to.equal(
        'invalid parameter "end": end timestamp must not be before start time',
      );
      expect(badDataMessage(() => rangeParams(params('start=1&end=2&step=abc'), parseDuration))).to.equal(
        'invalid parameter "step": cannot parse "abc" to a valid duration',
      );
      for (const step of ['0', '-1', '0.0001']) {
        expect(badDataMessage(() => rangeParams(params(`start=1&end=2&step=${step}`), parseDuration))).to.equal(
          'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
        );
      }
      expect(rangeParams(params('start=1&end=2&step=1m'), parseDuration).stepMs).to.equal(60_000);
    });
  });

  it('parses limit as a non-negative integer', () => {
    expect(limitParam(params(''))).to.equal(0);
    expect(limitParam(params('limit=5'))).to.equal(5);
    expect(badDataMessage(() => limitParam(params('limit=-1')))).to.equal('invalid parameter "limit": limit must be non-negative');
    expect(badDataMessage(() => limitParam(params('limit=x')))).to.equal(
      'invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax',
    );
  });
});

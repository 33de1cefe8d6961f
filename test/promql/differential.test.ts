import { expect } from 'chai';
import { closeEnough, compareAnswers, DIFFERENTIAL_QUERIES, type Answer, prometheusAvailable, randomQueries, runDifferential } from '../../src/promql/testing/differential.js';

/** Random nested expressions generated; about a sixth repeat, and repeats are dropped. */
const RANDOM_QUERIES = 300;
const DISTINCT_RANDOM_MIN = 220;

describe('PromQL differential check against Prometheus 2.42, end to end', function () {
  this.timeout(120_000);

  before(function () {
    if (prometheusAvailable()) return;
    if (process.env['CI'] === 'true') throw new Error('the prometheus binary must be installed in CI for the differential check');
    console.warn('\n  !!! SKIPPING the differential PromQL check: prometheus is not on PATH !!!\n');
    this.skip();
  });

  it('a Metricstor server answers range and instant queries over HTTP exactly as Prometheus does', async function () {
    expect(DIFFERENTIAL_QUERIES.length).to.be.at.least(300);
    const report = await runDifferential({ mode: 'http' });
    expect(report.failures, report.failures.join('\n')).to.deep.equal([]);
    // every query as 2 range queries and 3 instant queries
    expect(report.checked).to.equal(DIFFERENTIAL_QUERIES.length * 5);
    expect(report.points).to.be.greaterThan(300_000);
  });

  it('agrees on randomly generated nested expressions', async function () {
    const queries = [...new Set(randomQueries(RANDOM_QUERIES, 7))];
    expect(queries.length).to.be.greaterThan(DISTINCT_RANDOM_MIN);
    const report = await runDifferential({ mode: 'http', queries });
    expect(report.failures, report.failures.join('\n')).to.deep.equal([]);
    expect(report.checked).to.equal(queries.length * 5);
    expect(report.points).to.be.greaterThan(20_000);
  });
});

describe('differential value comparison', () => {
  it('allows 1e-9 relative error, NaN only against NaN, infinities only exactly', () => {
    expect(closeEnough(1, 1 + 5e-10)).to.equal(true);
    expect(closeEnough(1, 1 + 5e-9)).to.equal(false);
    expect(closeEnough(-3e20, -3e20 * (1 + 1e-10))).to.equal(true);
    expect(closeEnough(NaN, NaN)).to.equal(true);
    expect(closeEnough(NaN, 0)).to.equal(false);
    expect(closeEnough(Infinity, Infinity)).to.equal(true);
    expect(closeEnough(Infinity, -Infinity)).to.equal(false);
    expect(closeEnough(0, 1e-300)).to.equal(false);
  });
});

describe('differential answer comparison', () => {
  const series = (room: string, points: [number, number][]) => ({
    labels: [{ name: 'room', value: room }],
    points,
  });
  const vector = (...s: ReturnType<typeof series>[]): Answer => ({ ok: true, resultType: 'vector', series: s });

  it('finds a different value, timestamp, label set or series count', () => {
    const base = vector(series('a', [[1000, 1]]), series('b', [[1000, 2]]));
    const c = { query: 'temp', instant: true };
    expect(compareAnswers(c, base, base)).to.equal(null);
    expect(compareAnswers(c, vector(series('a', [[1000, 1]]), series('b', [[1000, 2.001]])), base)).to.match(/point 0/);
    expect(compareAnswers(c, vector(series('a', [[1000, 1]]), series('b', [[2000, 2]])), base)).to.match(/point 0/);
    expect(compareAnswers(c, vector(series('a', [[1000, 1]]), series('c', [[1000, 2]])), base)).to.match(/labels/);
    expect(compareAnswers(c, vector(series('a', [[1000, 1]])), base)).to.match(/series count 1 vs 2/);
    expect(compareAnswers(c, { ok: true, resultType: 'scalar', series: [] }, base)).to.match(/result type/);
  });

  it('holds instant vectors to Prometheus order except where Prometheus uses Go map order', () => {
    const ours = vector(series('b', [[1000, 2]]), series('a', [[1000, 1]]));
    const theirs = vector(series('a', [[1000, 1]]), series('b', [[1000, 2]]));
    expect(compareAnswers({ query: 'sort(temp)', instant: true }, ours, theirs)).to.match(/labels/);
    expect(compareAnswers({ query: 'histogram_quantile(0.5, temp)', instant: true }, ours, theirs)).to.equal(null);
    expect(compareAnswers({ query: 'max_over_time(temp[5m:1m])', instant: true }, ours, theirs)).to.equal(null);
  });

  it('accepts both sides failing with the same message, label sets aside only where the order is random', () => {
    const theirs: Answer = { ok: false, error: '1:1: execution: found duplicate series for the match group {a="1"}' };
    const ours: Answer = { ok: false, error: 'execution: found duplicate series for the match group {a="2"}' };
    expect(compareAnswers({ query: 'x / y', instant: true }, ours, theirs)).to.match(/both failed, differently/);
    expect(compareAnswers({ query: 'x / y', instant: false }, ours, theirs)).to.equal(null);
    expect(compareAnswers({ query: 'x', instant: true }, ours, vector())).to.match(/we failed/);
    expect(compareAnswers({ query: 'x', instant: true }, vector(), theirs)).to.match(/Prometheus failed/);
  });
});

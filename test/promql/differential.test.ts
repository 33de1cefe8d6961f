import { expect } from 'chai';
import { closeEnough, DIFFERENTIAL_QUERIES, prometheusAvailable, randomQueries, runDifferential } from '../../src/promql/testing/differential.js';

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

import { expect } from 'chai';
import { prometheusAvailable, randomQueries, runDifferential } from '../../src/promql/testing/differential.js';

describe('PromQL differential check against Prometheus 2.42', function () {
  this.timeout(120_000);

  it('answers range and instant queries exactly as the prometheus binary does', async function () {
    if (!prometheusAvailable()) {
      console.warn('\n  !!! SKIPPING differential PromQL check: prometheus/promtool not on PATH !!!\n');
      this.skip();
    }
    const report = await runDifferential();
    expect(report.failures, report.failures.join('\n')).to.deep.equal([]);
    expect(report.checked).to.be.greaterThan(300);
    expect(report.points).to.be.greaterThan(50_000);
  });

  it('agrees on randomly generated nested expressions', async function () {
    if (!prometheusAvailable()) this.skip();
    const report = await runDifferential(() => {}, randomQueries(60, 7));
    expect(report.failures, report.failures.join('\n')).to.deep.equal([]);
    expect(report.checked).to.equal(240);
  });
});

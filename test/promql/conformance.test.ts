import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExpr } from '../../src/promql/parser/index.js';
import { runDirectory, summarize } from '../../src/promql/testing/runner.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'promql-testdata');

describe('PromQL conformance (Prometheus 2.42 test scripts)', function () {
  this.timeout(120_000);

  it('passes every statement, with the upstream runner range-mode and @ checks', async function () {
    if (!existsSync(TESTDATA)) {
      if (process.env['CI'] === 'true') throw new Error(`PromQL test data missing at ${TESTDATA}`);
      console.warn(`\n  !!! SKIPPING PromQL conformance: no test data at ${TESTDATA} !!!\n`);
      this.skip();
    }
    const results = await runDirectory(TESTDATA, {
      parse: parseExpr,
      rangeCheck: true,
      atModifierCheck: true,
      maxSamples: 10_000,
    });
    const failures = results
      .filter((r) => r.status === 'failed')
      .map((r) => `${r.file}:${r.line}: ${r.expr}\n    ${r.message ?? ''}`);
    const { passed, failed } = summarize(results);
    expect(failures, failures.join('\n')).to.deep.equal([]);
    expect(failed).to.equal(0);
    expect(passed).to.be.greaterThan(500);
  });
});

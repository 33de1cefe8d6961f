import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryKv } from '../../src/kv/memory.js';
import { parseExpr } from '../../src/promql/parser/index.js';
import type { RunnerOptions, StatementResult } from '../../src/promql/testing/runner.js';
import { runDirectory, summarize } from '../../src/promql/testing/runner.js';
import { Storage } from '../../src/storage/index.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'promql-testdata');

function expectAllPassed(results: readonly StatementResult[]): void {
  const failures = results
    .filter((r) => r.status === 'failed')
    .map((r) => `${r.file}:${r.line}: ${r.expr}\n    ${r.message ?? ''}`);
  const { passed, failed } = summarize(results);
  expect(failures, failures.join('\n')).to.deep.equal([]);
  expect(failed).to.equal(0);
  expect(passed).to.be.greaterThan(500);
}

describe('PromQL conformance (Prometheus 2.42 test scripts)', function () {
  this.timeout(120_000);

  before(function () {
    if (existsSync(TESTDATA)) return;
    if (process.env['CI'] === 'true') throw new Error(`PromQL test data missing at ${TESTDATA}`);
    console.warn(`\n  !!! SKIPPING PromQL conformance: no test data at ${TESTDATA} !!!\n`);
    this.skip();
  });

  it('passes every statement, with the upstream runner range-mode and @ checks', async () => {
    const options: RunnerOptions = { parse: parseExpr, rangeCheck: true, atModifierCheck: true, maxSamples: 10_000 };
    expectAllPassed(await runDirectory(TESTDATA, options));
  });

  it('passes every statement with the series stored in the real storage over an in-memory KV', async () => {
    const results = await runDirectory(TESTDATA, {
      parse: parseExpr,
      openStorage: async () => {
        const storage = await Storage.open(new MemoryKv());
        return {
          select: (params) => storage.select(params),
          load: (series) => storage.append(appendBatchOf(series)),
          close: () => storage.close(),
        };
      },
    });
    expectAllPassed(results);
  });
});

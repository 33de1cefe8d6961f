import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { formatExpr, parseExpr } from '../../../src/promql/parser/index.js';
import { canonical } from './helpers.js';

/** Prometheus's PromQL test scripts live next to the repository, in ../shared/promql-testdata. */
const TESTDATA = fileURLToPath(new URL('../../../../shared/promql-testdata/', import.meta.url));

interface EvalLine {
  readonly file: string;
  readonly line: number;
  readonly command: string;
  readonly query: string;
}

function evalLines(): EvalLine[] {
  const out: EvalLine[] = [];
  for (const file of readdirSync(TESTDATA).filter((f) => f.endsWith('.test')).sort()) {
    readFileSync(`${TESTDATA}${file}`, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const m = /^(eval|eval_ordered|eval_fail)\s+instant\s+at\s+\S+\s+(.+)$/.exec(text);
        if (m) out.push({ file, line: i + 1, command: m[1]!, query: m[2]! });
      });
  }
  return out;
}

describe('PromQL parser over Prometheus test scripts', function () {
  before(function () {
    if (!existsSync(TESTDATA)) {
      console.warn(`\n  !!! SKIPPING: ${TESTDATA} not found; the PromQL test scripts were not checked !!!\n`);
      this.skip();
    }
  });

  it('parses every eval expression and round-trips it through formatExpr', () => {
    const lines = evalLines();
    expect(lines.length).to.be.greaterThan(500);
    const failures: string[] = [];
    for (const l of lines) {
      try {
        const first = parseExpr(l.query);
        const printed = formatExpr(first);
        const again = parseExpr(printed);
        expect(canonical(again)).to.deep.equal(canonical(first));
        expect(formatExpr(again)).to.equal(printed);
      } catch (err) {
        failures.push(`${l.file}:${l.line} ${l.query}: ${(err as Error).message}`);
      }
    }
    expect(failures).to.deep.equal([]);
  });

  it('parses the eval_fail expressions too: they fail only when evaluated', () => {
    const failing = evalLines().filter((l) => l.command === 'eval_fail');
    expect(failing.length).to.be.greaterThan(0);
    for (const l of failing) expect(() => parseExpr(l.query), `${l.file}:${l.line}`).to.not.throw();
  });
});

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { formatExpr, parseExpr } from '../../../src/promql/parser/index.js';

interface GoldenCase {
  readonly name: string;
  readonly query: string;
  readonly expected: string;
  /** The expectation is the AST as JSON rather than printed text. */
  readonly json: boolean;
}

/** Reads cases.txt: "# name", query lines, "==> expectation" (or the expectation below it). */
function readCases(text: string): GoldenCase[] {
  const cases: GoldenCase[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n');
    const arrow = lines.findIndex((l) => l.startsWith('==>'));
    if (arrow === -1) continue;
    const name = lines[0]!.replace(/^#\s*/, '');
    const query = lines.slice(1, arrow).join('\n');
    const inline = lines[arrow]!.slice(3).trim();
    const expected = inline !== '' ? inline : lines.slice(arrow + 1).join('\n').trim();
    cases.push({ name, query, expected, json: inline === '' });
  }
  return cases;
}

function outcome(c: GoldenCase): string {
  try {
    const expr = parseExpr(c.query);
    return c.json ? JSON.stringify(expr) : formatExpr(expr);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe('PromQL parser golden cases (cases.txt)', () => {
  const cases = readCases(readFileSync(new URL('./cases.txt', import.meta.url), 'utf8'));

  it('has cases to run', () => {
    expect(cases.length).to.be.greaterThan(30);
  });

  for (const c of cases) {
    it(c.name, () => {
      const want = c.json ? JSON.stringify(JSON.parse(c.expected)) : c.expected;
      expect(outcome(c)).to.equal(want);
    });
  }
});

import { expect } from 'chai';
import { randomQueries } from '../../src/promql/testing/differential.js';
import { assertHealthy, Outcomes, prng, report, rssMiB, startFuzzServer, type FuzzServer } from './harness.js';

async function query(base: string, path: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, text: await res.text() };
}

const ALPHABET = 'abcxyz_:{}[]()"\'`=~!<>+-*/^%,.0123456789 @#\\\n\té∀😀';

function randomString(rand: () => number, maxLength: number): string {
  const chars = [...ALPHABET];
  let s = '';
  const n = Math.floor(rand() * maxLength);
  for (let i = 0; i < n; i++) s += chars[Math.floor(rand() * chars.length)];
  return s;
}

const NOW_S = Math.floor(Date.now() / 1000);

describe('fuzz: PromQL against a running server', function () {
  this.timeout(30_000);
  let fuzz: FuzzServer;
  before(async () => {
    fuzz = await startFuzzServer({ timeoutMs: 5_000 });
    // A long label value for the regex tests, as long as ingestion allows.
    const res = await fetch(`${fuzz.base}/api/v1/import/prometheus?timestamp=${NOW_S * 1000}`, {
      method: 'POST',
      body: `fuzz_long{a="${'a'.repeat(1800)}"} 1\nup{job="x"} 1\n`,
    });
    expect(res.status).to.equal(204);
  });
  after(async () => {
    await fuzz.close();
  });

  it('answers generated and random queries with a result or a 4xx with a message', async () => {
    const rssBefore = rssMiB();
    const rand = prng(0xbad5eed);
    const deadline = Date.now() + 12_000;
    const grammar = new Outcomes();
    const random = new Outcomes();
    const queries = randomQueries(150, 7);
    for (let i = 0; i < queries.length && Date.now() < deadline; i++) {
      const q = queries[i]!;
      const r = await query(fuzz.base, '/api/v1/query', { query: q, time: String(NOW_S) });
      grammar.record(r.status, r.text, q);
      const s = randomString(rand, 60);
      const r2 = await query(fuzz.base, '/api/v1/query', { query: s, time: String(NOW_S) });
      random.record(r2.status, r2.text, JSON.stringify(s));
    }
    report('grammar-generated queries', grammar.summary());
    report('random strings', random.summary());
    expect([...grammar.failures, ...random.failures], fuzz.logged.join('')).to.deep.equal([]);
    expect(grammar.tried).to.be.greaterThan(50);
    expect(grammar.byStatus.get(200) ?? 0).to.be.greaterThan(grammar.tried / 2);
    await assertHealthy(fuzz.base);
    expect(rssMiB() - rssBefore).to.be.lessThan(200);
  });

  it('refuses deep nesting and huge literals without crashing', async () => {
    const depth = 100_000;
    const inputs: Record<string, string> = {
      'parentheses 100,000 deep': `${'('.repeat(depth)}1${')'.repeat(depth)}`,
      'unary minus 100,000 deep': `${'-'.repeat(depth)}1`,
      'function calls 100,000 deep': `${'abs('.repeat(depth)}up${')'.repeat(depth)}`,
      'binary chain of 100,000': Array.from({ length: depth }, () => '1').join('+'),
      'binary chain of 1,000,000 (2 MB)': Array.from({ length: 1_000_000 }, () => '1').join('+'),
      'unclosed 100,000': '('.repeat(depth),
      'number with 100,000 digits': '9'.repeat(depth),
      'exponent 1e999999': '1e999999',
      'hex literal of 1,000 digits': `0x${'f'.repeat(1000)}`,
      'duration 99999999999999999999y': 'up[99999999999999999999y]',
      'offset 1e20y': 'up offset 100000000000000000000y',
      'subquery with 1ms step over 1y': 'up[1y:1ms]',
      'string of 1 MB': `"${'x'.repeat(1 << 20)}"`,
    };
    const outcomes = new Outcomes();
    for (const [kind, q] of Object.entries(inputs)) {
      const start = performance.now();
      const r = await query(fuzz.base, '/api/v1/query', { query: q, time: String(NOW_S) });
      report(kind, `${r.status} in ${(performance.now() - start).toFixed(0)} ms: ${r.text.slice(0, 140)}`);
      outcomes.record(r.status, r.text, kind);
      expect(performance.now() - start, kind).to.be.lessThan(5000);
      await assertHealthy(fuzz.base);
    }
    expect(outcomes.failures, fuzz.logged.join('')).to.deep.equal([]);
  });

  it('matches catastrophic-backtracking regexes against an 1800-character value (the longest the index takes) in bounded time', async () => {
    for (const re of ['(a+)+b', '(a|aa)+b', '(a*)*b', '(.*a){12}b', '(a|a?)+b']) {
      const start = performance.now();
      const r = await query(fuzz.base, '/api/v1/query', { query: `count({a=~"${re}"})`, time: String(NOW_S) });
      const ms = performance.now() - start;
      report(`{a=~"${re}"} on 1800 a's`, `${r.status} in ${ms.toFixed(0)} ms`);
      expect(r.status, r.text).to.equal(200);
      expect(JSON.parse(r.text).data.result).to.deep.equal([]);
      expect(ms).to.be.lessThan(3000);
    }
    // The regex still matches what it should.
    const r = await query(fuzz.base, '/api/v1/query', { query: 'count({a=~"(a+)+"})', time: String(NOW_S) });
    expect(JSON.parse(r.text).data.result[0].value[1]).to.equal('1');
    await assertHealthy(fuzz.base);
  });
});

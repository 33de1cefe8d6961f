import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import { formatExpr, parseExpr } from '../../../src/promql/parser/index.js';
import { freePort, waitForHttp } from '../../helpers/net.js';
import { tempDir } from '../../helpers/tmp.js';
import { ERROR_CASES } from './error-cases.js';

/**
 * Differential checks against the Prometheus 2.42 binaries when they are installed: promtool
 * must reject exactly the queries we reject, with the same message, and the Prometheus server
 * must print every accepted query exactly as formatExpr does.
 */

const TESTDATA = fileURLToPath(new URL('../../../../shared/promql-testdata/', import.meta.url));

function binaryVersion(name: string): string | null {
  try {
    return execFileSync(name, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
  } catch {
    return null;
  }
}

function isVersion242(name: string): boolean {
  return /version 2\.42\./.test(binaryVersion(name) ?? '');
}

/** Queries written for this suite, chosen where the grammar has corners. */
const CORNERS = [
  'sum',
  'sum{a="b"}',
  'offset',
  'by + without',
  'x offset 0s',
  'x[0s]',
  'x[5m:0s]',
  'x @ 1e400',
  '0x',
  '1e',
  '010.5 + 0755 - 08',
  'x{a="\\c"}',
  'foo[5m] @ 1 offset 2',
  'x and y or z unless w',
  'a + on(x) group_left(x) b',
  'a % bool b',
  'x @ start',
  'x[1m] @ end() offset 1m',
  '-x ^ 2 * 3',
  '2 ^ -x ^ 2',
  'x atan2 y ^ 2',
  '1 > bool 2 > bool 3',
  'sum without() (x)',
  'count_values("a b", x)',
  'label_join(x, "a", ",")',
  'round(x)',
  'days_in_month()',
  'x[5m] offset -1m',
  'x @ -1',
  'node_var * on (instance) group_left (ro*le) node_role',
  'count by (namespace, group_left cpu) (x)',
  'resets(http_requests)[30m])',
  'sum without() x)',
  'quantile without(point)(scalar(foo^), data)',
  'offset 1m- - - 1',
  '-1 /by 0',
  'sum_over_time(x[30s:10s]% offset 3s)',
  'round(x, 0bool.1)',
  '0x11.5F + 1',
  'last_over_time(data[m])',
  'x offset 1.5m',
  '12.34e+=~6',
  'sinh)',
  '@ 10',
  'x{a="b"}{c="d"}',
  'SUM BY (gro{up) (x)',
  'a * on(x) group_left @ 1 b',
  'x[5m:1m:1m]',
  '"\\xff\\u00e9" + 1',
  '`a\\nb` + 1',
];

function evalQueries(): string[] {
  if (!existsSync(TESTDATA)) return [];
  const out: string[] = [];
  for (const file of readdirSync(TESTDATA).filter((f) => f.endsWith('.test'))) {
    for (const line of readFileSync(`${TESTDATA}${file}`, 'utf8').split('\n')) {
      const m = /^eval\S*\s+instant\s+at\s+\S+\s+(.+)$/.exec(line);
      if (m) out.push(m[1]!);
    }
  }
  return out;
}

const PIECES = ['(', ')', '[', ']', '{', '}', ',', '=', '==', '=~', '-', '*', '^', 'by', 'on', 'group_left', 'bool', 'offset', '@', 'start()', '5m', '1', '"a"', 'x', 'sum', ':', 'or', ' ', 'abs(', '[5m:]'];

/** Deterministic small edits of valid queries: most of them are syntax errors. */
function mutants(seeds: readonly string[], count: number): string[] {
  let state = 20_230_201;
  const next = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
    return state % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count && seeds.length > 0; i++) {
    let q = seeds[next(seeds.length)]!;
    const at = next(q.length + 1);
    switch (next(3)) {
      case 0:
        q = q.slice(0, at) + q.slice(at + 1);
        break;
      case 1:
        q = q.slice(0, at) + PIECES[next(PIECES.length)] + q.slice(at);
        break;
      default:
        q = q.slice(0, at) + q.slice(at + 1 + next(4));
    }
    out.push(q);
  }
  return out;
}

/** Deterministic random well-formed queries, for printing: numbers, strings, durations, modifiers. */
function generated(count: number): string[] {
  const samples = fc.sample(generatedQuery(), { numRuns: count, seed: 2_042 });
  return samples.filter((q) => !q.includes('\n'));
}

function generatedQuery(): fc.Arbitrary<string> {
  const value = fc.constantFrom('a', 'q"', 'é', 'tab\t', '\u200b', '😀', "it's", '\\');
  const matcher = fc
    .tuple(fc.constantFrom('job', 'on', 'le'), fc.constantFrom('=', '!='), value)
    .map(([l, op, v]) => `${l}${op}${JSON.stringify(v)}`);
  const name = fc.constantFrom('x', 'up', 'a:b', 'by', 'sum', 'offset', 'start');
  const selector = fc
    .tuple(name, fc.array(matcher, { maxLength: 3 }))
    .map(([n, ms]) => (ms.length === 0 ? n : `${n}{${ms.join(', ')}}`));
  const duration = fc.constantFrom('5m', '1h30m', '90s', '1d', '250ms', '2w', '3y', '100w', '1y2w', '36h', '1001ms');
  const at = fc.constantFrom('', ' @ 10', ' @ -1.5', ' @ start()', ' @ end()', ' @ 1e3', ' @ 0.0005');
  const offset = fc.constantFrom('', ' offset 5m', ' offset -90s', ' offset 1y2w');
  const number = fc.constantFrom('1', '0.5', '1e6', '0x10', 'Inf', 'NaN', '1e-7', '-0', '123456.7', '1234567', '1e21', '010');
  const text = fc.constantFrom('"a"', "'b'", '`c\\d`', '"\\u00e9"', '"\\x41"', '"tab\\t"');
  const { query } = fc.letrec((tie) => ({
    query: fc.oneof(
      { depthSize: 'small' },
      fc.tuple(selector, at, offset).map(([s, a, o]) => `${s}${a}${o}`),
      fc.tuple(selector, duration, offset, at).map(([s, d, o, a]) => `rate(${s}[${d}]${o}${a})`),
      fc
        .tuple(fc.constantFrom('sum', 'COUNT', 'group'), fc.constantFrom('', ' by (job)', ' without (le, on)', ' by ()'), tie('query'))
        .map(([op, g, e]) => `${op}${g} (${e})`),
      fc.tuple(fc.constantFrom('topk', 'quantile'), number, tie('query')).map(([op, p, e]) => `${op}(${p}, ${e})`),
      fc.tuple(text, tie('query')).map(([t, e]) => `count_values(${t}, ${e})`),
      fc
        .tuple(tie('query'), fc.constantFrom('+', '^', 'atan2', '> bool', 'or', '* on (job) group_left (x)', '/ ignoring (le)'), fc.oneof(tie('query'), number))
        .map(([l, op, r]) => `${l} ${op} ${r}`),
      fc.tuple(fc.constantFrom('-', '+'), tie('query')).map(([op, e]) => `${op}${e}`),
      tie('query').map((e) => `(${e})`),
      fc.tuple(tie('query'), duration, fc.constantFrom('', '1m'), offset).map(([e, r, st, o]) => `max_over_time((${e})[${r}:${st}]${o})`),
    ),
  }));
  return query;
}

function corpus(): string[] {
  const tabled = Object.values(ERROR_CASES).flatMap((table) => table.map(([query]) => query));
  const seeds = [...evalQueries(), ...CORNERS, ...tabled];
  const all = [...seeds, ...mutants(seeds, 1500), ...generated(400)];
  return [...new Set(all)].filter((q) => q.trim() !== '' && !q.includes('\n'));
}

function oursError(query: string): string | null {
  try {
    parseExpr(query);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Regular expressions are checked by different engines; only agreement on failure is asked. */
function isRegexProblem(message: string | null): boolean {
  return message !== null && /regexp|regular expression/.test(message);
}

function rulesFile(queries: readonly string[]): string {
  const lines = ['groups:', '- name: g', '  interval: 1h', '  rules:'];
  queries.forEach((q, i) => lines.push(`  - record: r${i}`, `    expr: ${JSON.stringify(q)}`));
  return `${lines.join('\n')}\n`;
}

describe('PromQL parser against Prometheus 2.42 binaries', function () {
  this.timeout(60_000);
  let dir = '';
  let queries: string[] = [];

  before(async function () {
    if (!isVersion242('promtool') || !isVersion242('prometheus')) {
      console.warn('\n  !!! SKIPPING: promtool/prometheus 2.42 not installed; no differential check ran !!!\n');
      this.skip();
    }
    dir = await tempDir('promql-parser');
    queries = corpus();
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('rejects exactly what promtool rejects, with the same message', () => {
    writeFileSync(`${dir}/all.yml`, rulesFile(queries));
    let report = '';
    try {
      report = execFileSync('promtool', ['check', 'rules', `${dir}/all.yml`], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const failed = err as { stdout?: string; stderr?: string };
      report = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    }
    const theirs = new Map<number, string>();
    for (const line of report.split('\n')) {
      const m = /rule (\d+), "r\d+": could not parse expression: (.*)$/.exec(line);
      if (m) theirs.set(Number(m[1]) - 1, m[2]!);
    }
    expect(theirs.size, 'promtool found errors to compare').to.be.greaterThan(100);
    const differences: string[] = [];
    queries.forEach((q, i) => {
      const want = theirs.get(i) ?? null;
      const got = oursError(q);
      if (got === want) return;
      if (isRegexProblem(got) || isRegexProblem(want)) return;
      differences.push(`${JSON.stringify(q)}\n    prometheus: ${want}\n    ours:       ${got}`);
    });
    expect(differences, differences.join('\n')).to.deep.equal([]);
  });

  it('prints every accepted query exactly as the Prometheus server does', async () => {
    const accepted = queries.filter((q) => oursError(q) === null);
    writeFileSync(`${dir}/ok.yml`, rulesFile(accepted));
    writeFileSync(`${dir}/prometheus.yml`, `global:\n  evaluation_interval: 1h\nrule_files:\n  - ${dir}/ok.yml\n`);
    const port = await freePort();
    const server: ChildProcess = spawn(
      'prometheus',
      [`--config.file=${dir}/prometheus.yml`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${dir}/data`],
      { stdio: 'ignore' },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForHttp(`${base}/-/ready`, 30_000);
      let printed: { name: string; query: string }[] = [];
      for (let attempt = 0; attempt < 100 && printed.length < accepted.length; attempt++) {
        const res = await fetch(`${base}/api/v1/rules`);
        if (res.ok) {
          const body = (await res.json()) as { data: { groups: { rules: { name: string; query: string }[] }[] } };
          printed = body.data.groups.flatMap((g) => g.rules);
        }
        if (printed.length < accepted.length) await new Promise((r) => setTimeout(r, 200));
      }
      expect(printed.length).to.equal(accepted.length);
      const differences: string[] = [];
      for (const rule of printed) {
        const query = accepted[Number(rule.name.slice(1))]!;
        const ours = formatExpr(parseExpr(query));
        if (ours !== rule.query) differences.push(`${query}\n    prometheus: ${rule.query}\n    ours:       ${ours}`);
      }
      expect(differences, differences.join('\n')).to.deep.equal([]);
    } finally {
      server.kill();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GENERATED = 'src/promql/parser/generated/parser';

describe('generated PromQL parser', () => {
  it('is what `npm run grammar` produces from promql.peggy (never edited by hand)', function () {
    this.timeout(30_000);
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    const command = scripts['grammar'];
    expect(command, 'the grammar script').to.be.a('string');
    const dir = mkdtempSync(join(tmpdir(), 'promql-grammar-'));
    try {
      const redirected = command!.replace(`${GENERATED}.js`, join(dir, 'parser.js'));
      expect(redirected).to.not.equal(command);
      const path = `${join(ROOT, 'node_modules', '.bin')}:${process.env['PATH'] ?? ''}`;
      execFileSync('sh', ['-c', redirected], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, PATH: path } });
      for (const ext of ['.js', '.d.ts']) {
        const fresh = readFileSync(join(dir, `parser${ext}`), 'utf8');
        const committed = readFileSync(join(ROOT, `${GENERATED}${ext}`), 'utf8');
        expect(fresh === committed, `${GENERATED}${ext} is stale: run npm run grammar`).to.equal(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

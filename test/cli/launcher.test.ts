import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { launcherCommand, launcherNodeFlags } from '../../bench/compare/systems/metricstor.js';

/** Allocates short-lived objects, some surviving a while, and prints the largest new space seen (bytes). */
const YOUNG_GENERATION_PROBE = `
const v8 = require('node:v8');
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
let largest = newSpace();
let kept = [];
for (let i = 0; i < 2_000_000; i++) {
  kept.push({ i, s: 'x' + i });
  if (kept.length > 100_000) kept = [];
  if (i % 10_000 === 0) largest = Math.max(largest, newSpace());
}
console.log(largest);
`;

async function largestNewSpace(nodeFlags: readonly string[]): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, '-e', YOUNG_GENERATION_PROBE], { timeout: 60_000 });
  return Number(stdout.trim());
}

describe('bin/metricstor.js, the launcher', () => {
  it('is what npm start runs', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts['start']).to.match(/&& \.\/bin\/metricstor\.js serve$/);
    expect(pkg.bin['metricstor']).to.equal('bin/metricstor.js');
  });

  it('sets a fixed malloc mmap threshold, so that glibc hands freed large buffers back instead of keeping them in its heap', () => {
    expect(launcherCommand().env).to.deep.equal({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' });
  });

  it('passes Node flags that keep the young generation at 4 MiB instead of V8\'s default of up to 32 MiB', async function () {
    this.timeout(120_000);
    const flags = launcherNodeFlags();
    expect(flags).to.include('--max-semi-space-size=2');
    const own = await largestNewSpace([]);
    const launched = await largestNewSpace(flags);
    expect(own, `V8's own new space grew to ${own} bytes`).to.be.greaterThan(8 * 2 ** 20);
    expect(launched).to.be.greaterThan(0);
    expect(launched, `new space ${launched} bytes with ${flags.join(' ')}`).to.be.at.most(4 * 2 ** 20);
  });
});

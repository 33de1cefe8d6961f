import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { limitHeapGrowth } from '../../src/cli/heap-growth.js';

const CHILD = fileURLToPath(new URL('./heap-growth-child.ts', import.meta.url));

async function largestHeap(percent: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, String(percent)], { timeout: 60_000 });
  return Number(stdout.trim());
}

describe('limitHeapGrowth', () => {
  it('holds the heap closer to what is live than V8 does on its own', async function () {
    this.timeout(120_000);
    const own = await largestHeap(0);
    const limited = await largestHeap(25);
    expect(own).to.be.greaterThan(0);
    expect(limited, `largest heap ${limited} bytes with 25 %, ${own} with V8's rule`).to.be.lessThan(own * 0.8);
  });

  it('refuses a negative or fractional percent', () => {
    expect(() => limitHeapGrowth(-1)).to.throw(RangeError, /non-negative integer/);
    expect(() => limitHeapGrowth(2.5)).to.throw(RangeError, /non-negative integer/);
  });
});

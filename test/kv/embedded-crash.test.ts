import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { decodeUint32BE, equalBytes, toHex, utf8 } from '../../src/kv/bytes.js';
import { EmbeddedKv, type EmbeddedDurability } from '../../src/kv/embedded.js';
import type { KvEntry } from '../../src/kv/kv.js';
import { tempDir } from '../helpers/tmp.js';
import { batchKey, batchSize, batchValue } from './fixtures/batches.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'batch-writer.ts');

/**
 * Runs the writer child, kills it with SIGKILL a random moment after it has acknowledged at
 * least `minAcks` batches, and returns the acknowledged batch numbers.
 */
async function writeUntilKilled(dir: string, durability: EmbeddedDurability, first: number, minAcks: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, durability, String(first), '100000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acked: number[] = [];
  let pending = '';
  let killTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const m = /^ack (\d+)$/.exec(line);
      if (m !== null) acked.push(Number(m[1]));
    }
    if (acked.length >= minAcks && killTimer === undefined) {
      killTimer = setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 150));
    }
  });
  const signal = await exited;
  clearTimeout(deadline);
  clearTimeout(killTimer);
  expect(signal).to.equal('SIGKILL');
  expect(acked.length, 'acknowledged batches before the kill').to.be.at.least(minAcks);
  return acked;
}

/** Every batch number with at least one key in the store, after checking each is whole. */
async function checkWholeBatches(kv: EmbeddedKv): Promise<Set<number>> {
  const byBatch = new Map<number, KvEntry[]>();
  let start = utf8('B');
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await kv.scan({ start, end: utf8('C'), limit: 5000 });
    for (const e of page.entries) {
      const n = decodeUint32BE(e.key, 1);
      const list = byBatch.get(n) ?? [];
      list.push(e);
      byBatch.set(n, list);
    }
    if (page.next === undefined) break;
    start = page.next;
  }
  for (const [n, entries] of byBatch) {
    expect(entries.length, `keys present of batch ${n}`).to.equal(batchSize(n));
    entries.forEach((e, i) => {
      expect(toHex(e.key)).to.equal(toHex(batchKey(n, i)));
      expect(equalBytes(e.value, batchValue(n, i)), `value ${i} of batch ${n}`).to.equal(true);
    });
  }
  const tombstones = await kv.scan({ start: utf8('T'), end: utf8('U') });
  expect(tombstones.entries.length, 'keys deleted later in their own batch').to.equal(0);
  return new Set(byBatch.keys());
}

describe('EmbeddedKv durability under SIGKILL', function () {
  this.timeout(60_000);

  // 'commit' is the weaker mode, so it also gets a second crash of a store recovered from the first.
  const cases: [EmbeddedDurability, number][] = [
    ['commit', 2],
    ['flush', 1],
  ];
  for (const [durability, crashes] of cases) {
    it(`keeps every acknowledged batch whole and no batch half (durability ${durability}, ${crashes} crash(es))`, async () => {
      const dir = await tempDir('kv-crash');
      try {
        const ackedAll: number[] = [];
        for (let round = 0; round < crashes; round++) {
          const first = round * 1_000_000;
          ackedAll.push(...(await writeUntilKilled(dir, durability, first, 20 + round * 10)));
          const kv = await EmbeddedKv.open(dir, { durability });
          try {
            const present = await checkWholeBatches(kv);
            for (const n of ackedAll) expect(present.has(n), `acknowledged batch ${n} present`).to.equal(true);
          } finally {
            await kv.close();
          }
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

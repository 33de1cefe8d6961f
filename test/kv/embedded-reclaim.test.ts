import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import type { KvEntry, KvStore } from '../../src/kv/kv.js';
import { tempDir } from '../helpers/tmp.js';

function keyOf(i: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = 0x43;
  new DataView(k.buffer).setUint32(5, i);
  return k;
}

function valueOf(i: number, size: number): Uint8Array {
  const v = new Uint8Array(size);
  for (let j = 0; j < size; j++) v[j] = (i * 31 + j) & 0xff;
  return v;
}

async function everything(kv: KvStore): Promise<KvEntry[]> {
  const out: KvEntry[] = [];
  let start: Uint8Array | undefined = Uint8Array.of(0);
  for (let pages = 0; start !== undefined && pages < 1000; pages++) {
    const page = await kv.scan({ start, end: new Uint8Array(0), limit: 1000 });
    out.push(...page.entries.map((e) => ({ key: new Uint8Array(e.key), value: new Uint8Array(e.value) })));
    start = page.next;
  }
  return out;
}

/** 4,000 entries of 600 bytes written in shuffled order, then three in four deleted. */
async function fragmented(kv: EmbeddedKv): Promise<void> {
  const order = Array.from({ length: 4000 }, (_, i) => (i * 2654435761) % 4000);
  for (let from = 0; from < order.length; from += 200) {
    await kv.batch(order.slice(from, from + 200).map((i) => ({ type: 'put' as const, key: keyOf(i), value: valueOf(i, 600) })));
  }
  const dels = Array.from({ length: 4000 }, (_, i) => i).filter((i) => i % 4 !== 0);
  for (let from = 0; from < dels.length; from += 500) {
    await kv.batch(dels.slice(from, from + 500).map((i) => ({ type: 'del' as const, key: keyOf(i) })));
  }
}

describe('EmbeddedKv.reclaimSpace', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await tempDir('kv-reclaim');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rewrites a mostly free file into a smaller one with the same entries, and keeps working', async () => {
    const kvDir = path.join(dir, 'kv');
    const kv = await EmbeddedKv.open(kvDir);
    try {
      await fragmented(kv);
      const before = await everything(kv);
      expect(before).to.have.length(1000);
      const summary = await kv.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.3 });
      expect(summary.rewritten).to.equal(true);
      expect(summary.after.fileBytes).to.be.lessThan(summary.before.fileBytes / 2);
      expect(summary.after.filePages).to.be.lessThan(summary.before.filePages / 2);
      expect(await everything(kv)).to.deep.equal(before);
      await kv.batch([{ type: 'put', key: keyOf(1), value: Uint8Array.of(7) }]);
      expect(await kv.get(keyOf(1))).to.deep.equal(Buffer.from([7]));
      expect(await kv.compareAndSwap(keyOf(1), Uint8Array.of(7), null)).to.equal(true);
      expect(existsSync(path.join(kvDir, 'reclaim'))).to.equal(false);
    } finally {
      await kv.close();
    }
    const again = await EmbeddedKv.open(kvDir);
    try {
      expect(await everything(again)).to.have.length(1000);
    } finally {
      await again.close();
    }
  });

  it('leaves a file alone that is mostly in use, small, or too large to rewrite', async () => {
    const kv = await EmbeddedKv.open(path.join(dir, 'kv'));
    try {
      await kv.batch(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: keyOf(i), value: valueOf(i, 100) })));
      const summary = await kv.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.9 });
      expect(summary.rewritten).to.equal(false);
      expect(summary.after).to.deep.equal(summary.before);
      expect((await kv.reclaimSpace()).rewritten, 'below the default 64 MiB').to.equal(false);
      await fragmented(kv);
      const tooLarge = await kv.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.3, maxUsedBytes: 4096 });
      expect(tooLarge.rewritten, 'live pages above maxUsedBytes').to.equal(false);
    } finally {
      await kv.close();
    }
  });

  it('lets calls made during the rewrite wait for it and then land in the new file', async () => {
    const kv = await EmbeddedKv.open(path.join(dir, 'kv'));
    try {
      await fragmented(kv);
      const reclaim = kv.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.3 });
      const write = kv.batch([{ type: 'put', key: keyOf(5000), value: Uint8Array.of(1, 2, 3) }]);
      const read = kv.get(keyOf(0));
      const swapped = kv.compareAndSwap(keyOf(5001), null, Uint8Array.of(9));
      expect((await reclaim).rewritten).to.equal(true);
      await write;
      expect(await read).to.deep.equal(Buffer.from(valueOf(0, 600)));
      expect(await swapped).to.equal(true);
      expect(await kv.get(keyOf(5000))).to.deep.equal(Buffer.from([1, 2, 3]));
      expect(await everything(kv)).to.have.length(1002);
    } finally {
      await kv.close();
    }
  });

  it('rewrites nothing and deletes no value log segment while another process has the store open', async function () {
    this.timeout(30_000);
    const kvDir = path.join(dir, 'kv');
    const kv = await EmbeddedKv.open(kvDir, { valueSegmentBytes: 4096 });
    const segments = (): string[] => readdirSync(path.join(kvDir, 'values')).filter((f) => f.endsWith('.vlog'));
    try {
      await fragmented(kv);
      // A second process opens the same directory, reads once (taking a reader slot) and waits.
      const script = `const { open } = require('lmdb');
        const db = open({ path: process.argv[1], keyEncoding: 'binary', encoding: 'binary' });
        db.get(Buffer.from([0x43]));
        process.stdout.write('open\\n');
        process.stdin.on('data', () => {}).on('end', () => db.close().then(() => process.exit(0)));`;
      const other = spawn(process.execPath, ['-e', script, kvDir], { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('the other process did not open the store within 20 s')), 20_000);
          other.stdout.once('data', () => {
            clearTimeout(timer);
            resolve();
          });
          other.once('exit', (code) => reject(new Error(`the other process exited early (${code})`)));
        });
        // Bulk values in segments of their own, all overwritten: garbage, but the other process
        // could be writing to a segment this one takes for sealed.
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < 3; i++) await kv.batch([{ type: 'put', key: keyOf(9000 + i), value: valueOf(round, 3000), bulk: true }]);
        }
        await kv.batch([0, 1, 2].map((i) => ({ type: 'del' as const, key: keyOf(9000 + i) })));
        const refused = await kv.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.3 });
        expect(refused.rewritten, 'another process holds the file').to.equal(false);
        expect(refused.valueSegmentsRemoved).to.equal(0);
        expect(segments()).to.have.length(6);
      } finally {
        other.stdin.end();
        await new Promise<void>((resolve) => (other.exitCode !== null ? resolve() : other.once('exit', () => resolve())));
      }
      const done = await kv.reclaimSpace({ minFileBytes: 0, minFreeFraction: 0.3 });
      expect(done.rewritten, 'the other process has gone').to.equal(true);
      expect(done.valueSegmentsRemoved).to.equal(6);
      expect(segments()).to.deep.equal([]);
      expect(await everything(kv)).to.have.length(1000);
    } finally {
      await kv.close();
    }
  });

  it('removes a copy left behind by an interrupted rewrite when it opens', async () => {
    const kvDir = path.join(dir, 'kv');
    const kv = await EmbeddedKv.open(kvDir);
    await kv.batch([{ type: 'put', key: keyOf(1), value: Uint8Array.of(1) }]);
    await kv.close();
    await mkdir(path.join(kvDir, 'reclaim'));
    await writeFile(path.join(kvDir, 'reclaim', 'data.mdb'), 'partial');
    const reopened = await EmbeddedKv.open(kvDir);
    try {
      expect(existsSync(path.join(kvDir, 'reclaim'))).to.equal(false);
      expect(await reopened.get(keyOf(1))).to.deep.equal(Buffer.from([1]));
    } finally {
      await reopened.close();
    }
  });
});

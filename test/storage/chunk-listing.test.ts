import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import type { KvRange, KvScanPage, KvStore } from '../../src/kv/kv.js';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Matcher } from '../../src/model/matchers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';
import { Storage } from '../../src/storage/index.js';
import { DAY_MS, NS_CHUNK, WINDOW_MS } from '../../src/storage/keys.js';
import { compactNow } from '../../src/storage/maintenance/compact-now.js';
import { ManualClock, pairs, series } from './helpers.js';

const T0 = 20_000 * DAY_MS;
const STEP_MS = 15_000;
const SAMPLES = WINDOW_MS / STEP_MS;
const SERIES = 10;
const ALL: Matcher[] = [{ type: '=~', name: '__name__', value: 'm.*' }];

/** A MemoryKv that counts the chunk ranges read through scanMany. */
class ChunkReadCountingKv extends MemoryKv {
  chunkRangesRead = 0;

  override async scanMany(ranges: readonly KvRange[]): Promise<KvScanPage[]> {
    for (const r of ranges) if (r.start[0] === NS_CHUNK) this.chunkRangesRead++;
    return super.scanMany(ranges);
  }
}

function samplesOf(k: number, from: number, n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [T0 + (from + i) * STEP_MS, k * 1000 + from + i]);
}

async function compactedStorage(kv: KvStore, clock: ManualClock): Promise<Storage> {
  const storage = await Storage.open(kv, { clock, writerId: 4n, headFlush: { intervalMs: 60_000 } });
  await storage.append(appendBatchOf(Array.from({ length: SERIES }, (_, k) => series({ __name__: `m${k}` }, samplesOf(k, 0, SAMPLES)))));
  await compactNow({ kv, closeOpenChunks: () => storage.closeOpenChunks() }, clock.nowMs());
  return storage;
}

describe('chunk lists and selections kept between selects', () => {
  const lastMs = T0 + (SAMPLES - 1) * STEP_MS;
  const startMs = lastMs - 300_000;

  it('answers a repeated select from the cache without reading the chunk ranges again', async () => {
    const kv = new ChunkReadCountingKv();
    const storage = await compactedStorage(kv, new ManualClock(T0 + 3 * WINDOW_MS));
    try {
      const first = await storage.select({ matchers: ALL, startMs, endMs: lastMs });
      const readsAfterFirst = kv.chunkRangesRead;
      const second = await storage.select({ matchers: ALL, startMs, endMs: lastMs });
      const narrower = await storage.select({ matchers: ALL, startMs: startMs + 60_000, endMs: lastMs - 60_000 });
      expect(readsAfterFirst).to.equal(SERIES);
      expect(kv.chunkRangesRead).to.equal(readsAfterFirst);
      expect(second.map(pairs)).to.deep.equal(first.map(pairs));
      expect(first[0]!.timestamps.length).to.equal(21);
      expect(narrower.map(pairs)).to.deep.equal(first.map((s) => pairs(s).filter(([t]) => t >= startMs + 60_000 && t <= lastMs - 60_000)));
    } finally {
      await storage.close();
    }
  });

  it('reads again after a chunk is written by another writer, and returns its samples', async () => {
    const kv = new ChunkReadCountingKv();
    const clock = new ManualClock(T0 + 3 * WINDOW_MS);
    const storage = await compactedStorage(kv, clock);
    try {
      await storage.select({ matchers: ALL, startMs, endMs: lastMs + 60_000 });
      const reads = kv.chunkRangesRead;
      // A second gateway on the same KV writes the next minute of m3 (a chunk of its own).
      const other = await Storage.open(kv, { clock, writerId: 5n, headFlush: 'write-through' });
      await other.append(appendBatchOf([series({ __name__: 'm3' }, samplesOf(3, SAMPLES, 4))]));
      await other.close();
      const after = await storage.select({ matchers: ALL, startMs, endMs: lastMs + 60_000 });
      expect(kv.chunkRangesRead).to.be.greaterThan(reads);
      const m3 = pairs(after[3]!);
      expect(m3.slice(-5)).to.deep.equal(samplesOf(3, SAMPLES - 1, 5));
    } finally {
      await storage.close();
    }
  });

  it('returns a series another writer created after the same selection was made', async () => {
    const kv = new ChunkReadCountingKv();
    const clock = new ManualClock(T0 + 3 * WINDOW_MS);
    const storage = await compactedStorage(kv, clock);
    try {
      expect(await storage.select({ matchers: ALL, startMs, endMs: lastMs })).to.have.length(SERIES);
      expect(await storage.select({ matchers: ALL, startMs, endMs: lastMs })).to.have.length(SERIES);
      const other = await Storage.open(kv, { clock, writerId: 5n, headFlush: 'write-through' });
      await other.append(appendBatchOf([series({ __name__: 'm99' }, samplesOf(99, SAMPLES - 4, 4))]));
      await other.close();
      const after = await storage.select({ matchers: ALL, startMs, endMs: lastMs });
      expect(after).to.have.length(SERIES + 1);
      expect(pairs(after.find((s) => s.labels.some((l) => l.value === 'm99'))!)).to.deep.equal(samplesOf(99, SAMPLES - 4, 4));
    } finally {
      await storage.close();
    }
  });

  it('no longer returns a series deleted after its chunks were listed', async () => {
    const kv = new ChunkReadCountingKv();
    const storage = await compactedStorage(kv, new ManualClock(T0 + 3 * WINDOW_MS));
    try {
      expect(await storage.select({ matchers: ALL, startMs, endMs: lastMs })).to.have.length(SERIES);
      await storage.deleteSeries({ matcherSets: [[{ type: '=', name: '__name__', value: 'm7' }]], startMs: T0, endMs: lastMs });
      const after = await storage.select({ matchers: ALL, startMs, endMs: lastMs });
      expect(after.map((s) => s.labels.find((l) => l.name === '__name__')!.value)).to.not.include('m7');
      expect(after).to.have.length(SERIES - 1);
    } finally {
      await storage.close();
    }
  });

  it('sees chunks another process wrote to the same embedded store', async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(path.join(tmpdir(), 'metricstor-listing-'));
    const kv = await EmbeddedKv.open(dir);
    const now = Math.floor(Date.now() / STEP_MS) * STEP_MS;
    const at = (i: number): number => now - 40 * STEP_MS + i * STEP_MS;
    const storage = await Storage.open(kv, { writerId: 4n, headFlush: { intervalMs: 60_000 } });
    try {
      await storage.append(appendBatchOf([series({ __name__: 'mx' }, Array.from({ length: 30 }, (_, i) => [at(i), i] as const))]));
      await storage.closeOpenChunks();
      const matchers: Matcher[] = [{ type: '=', name: '__name__', value: 'mx' }];
      const range = { matchers, startMs: at(0), endMs: at(39) };
      const generation = kv.writeGeneration();
      expect(pairs((await storage.select(range))[0]!)).to.have.length(30);
      expect(pairs((await storage.select(range))[0]!)).to.have.length(30);
      const written = Array.from({ length: 10 }, (_, i) => [at(30 + i), 30 + i]);
      await runChild(dir, 'mx', written);
      expect(kv.writeGeneration()).to.not.equal(generation);
      const after = pairs((await storage.select(range))[0]!);
      expect(after).to.have.length(40);
      expect(after.slice(30)).to.deep.equal(written);
    } finally {
      await storage.close();
      await kv.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function runChild(dir: string, name: string, samples: number[][]): Promise<void> {
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'listing-writer-child.ts');
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, name, JSON.stringify(samples)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('writer child did not finish within 30 s'));
    }, 30_000);
    proc.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`writer child exited with ${code}: ${stderr}`);
}

import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prefixEnd } from '../../src/kv/bytes.js';
import type { KvEntry, KvStore } from '../../src/kv/kv.js';
import { MemoryKv } from '../../src/kv/memory.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';
import { Storage } from '../../src/storage/index.js';
import { decodeChunkHeader, NS_CHUNK } from '../../src/storage/keys.js';
import { ManualClock, series } from './helpers.js';

const T0 = 1_700_000_000_000;
const STEP_MS = 15_000;

async function chunkEntries(kv: KvStore): Promise<KvEntry[]> {
  const start = new Uint8Array([NS_CHUNK]);
  return (await kv.scan({ start, end: prefixEnd(start), limit: 1000 })).entries;
}

/** Samples i in [from, to) of one series, one every 15 s from T0. */
function run(name: string, from: number, to: number): ReturnType<typeof series> {
  return series({ __name__: name }, Array.from({ length: to - from }, (_, k) => [T0 + (from + k) * STEP_MS, from + k] as const));
}

describe('storage: closed chunks written by count', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'metricstor-closed-write-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the closed chunks once as many wait as configured, not before, and without a flush', async () => {
    const kv = new MemoryKv();
    const storage = await Storage.open(kv, {
      clock: new ManualClock(T0),
      writerId: 1n,
      headFlush: { intervalMs: 3_600_000 },
      walDir: dir,
      closedChunksWriteAt: 3,
    });
    try {
      await storage.append(appendBatchOf([run('a', 0, 1), run('b', 0, 1), run('c', 0, 1)])); // the series and their postings
      // The 121st sample of a series cuts its first chunk at 120: two closed chunks wait.
      await storage.append(appendBatchOf([run('a', 1, 121), run('b', 1, 121)]));
      expect(await chunkEntries(kv), 'two closed chunks, below the count').to.have.length(0);
      await storage.append(appendBatchOf([run('c', 1, 121)]));
      let chunks: KvEntry[] = [];
      for (let i = 0; i < 200 && chunks.length < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        chunks = await chunkEntries(kv);
      }
      expect(chunks.map((e) => decodeChunkHeader(e.value).closed)).to.deep.equal([true, true, true]);
    } finally {
      await storage.close();
    }
  });
});

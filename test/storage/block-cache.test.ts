import { expect } from 'chai';
import { encodeBlock, inflateBlock } from '../../src/chunk/block.js';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Matcher } from '../../src/model/matchers.js';
import { ChunkCache, cachedBytes } from '../../src/storage/chunk-cache.js';
import { Storage } from '../../src/storage/index.js';
import { DAY_MS, WINDOW_MS } from '../../src/storage/keys.js';
import { compactNow } from '../../src/storage/maintenance/compact-now.js';
import { ManualClock, pairs, series } from './helpers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 20_000 * DAY_MS;
const STEP_MS = 15_000;
const SAMPLES = (2 * WINDOW_MS) / STEP_MS;
const SERIES = 20;
const ALL: Matcher[] = [{ type: '=~', name: '__name__', value: 'm.*' }];

function value(k: number, i: number): number {
  return k % 2 === 0 ? 1000 + i * (k + 1) * 0.5 : Math.sin(i + k) * 1e3; // decimal and XOR-valued blocks
}

describe('chunk cache over compacted blocks', () => {
  it('keeps blocks inflated, counts their real bytes, and serves short selects from them', async () => {
    const clock = new ManualClock(T0 + 3 * WINDOW_MS);
    const kv = new MemoryKv();
    const storage = await Storage.open(kv, { clock, writerId: 4n, headFlush: { intervalMs: 60_000 } });
    try {
      await storage.append(
        appendBatchOf(Array.from({ length: SERIES }, (_, k) =>
          series({ __name__: `m${String(k).padStart(2, '0')}` }, Array.from({ length: SAMPLES }, (_, i) => [T0 + i * STEP_MS, value(k, i)] as const)),
        )),
      );
      await compactNow({ kv, closeOpenChunks: () => storage.closeOpenChunks() }, clock.nowMs());
      const startMs = T0 + WINDOW_MS - 300_000;
      const endMs = T0 + WINDOW_MS + 300_000; // across the edge of two blocks
      const want = Array.from({ length: SERIES }, (_, k) => {
        const out: [number, number][] = [];
        for (let i = 0; i < SAMPLES; i++) {
          const t = T0 + i * STEP_MS;
          if (t >= startMs && t <= endMs) out.push([t, value(k, i)]);
        }
        return out;
      });
      const before = storage.counters;
      const cold = await storage.select({ matchers: ALL, startMs, endMs });
      const afterCold = storage.counters;
      const warm = await storage.select({ matchers: ALL, startMs, endMs });
      const afterWarm = storage.counters;
      expect(cold.map(pairs)).to.deep.equal(want);
      expect(warm.map(pairs)).to.deep.equal(want);
      expect(afterCold.chunkCacheMisses - before.chunkCacheMisses).to.equal(2 * SERIES);
      expect(afterWarm.chunkCacheHits - afterCold.chunkCacheHits).to.equal(2 * SERIES);
      expect(afterWarm.chunkCacheMisses).to.equal(afterCold.chunkCacheMisses);
      // Two blocks per series held inflated: well under the 16 bytes per sample of decoded arrays.
      const samplesHeld = 2 * SERIES * (WINDOW_MS / STEP_MS);
      expect(afterCold.chunkCacheBytes).to.be.greaterThan(0);
      expect(afterCold.chunkCacheBytes).to.be.lessThan(samplesHeld * 16 * 0.75);
    } finally {
      await storage.close();
    }
  });

  it('answers reads of the newest minutes from a decoded tail, made once and counted in the cache', async () => {
    const clock = new ManualClock(T0 + 3 * WINDOW_MS);
    const kv = new MemoryKv();
    const storage = await Storage.open(kv, { clock, writerId: 4n, headFlush: { intervalMs: 60_000 } });
    try {
      await storage.append(
        appendBatchOf(Array.from({ length: SERIES }, (_, k) =>
          series({ __name__: `m${String(k).padStart(2, '0')}` }, Array.from({ length: SAMPLES }, (_, i) => [T0 + i * STEP_MS, value(k, i)] as const)),
        )),
      );
      await compactNow({ kv, closeOpenChunks: () => storage.closeOpenChunks() }, clock.nowMs());
      const lastMs = T0 + (SAMPLES - 1) * STEP_MS;
      const expected = (startMs: number, endMs: number): [number, number][][] =>
        Array.from({ length: SERIES }, (_, k) => {
          const out: [number, number][] = [];
          for (let i = 0; i < SAMPLES; i++) {
            const t = T0 + i * STEP_MS;
            if (t >= startMs && t <= endMs) out.push([t, value(k, i)]);
          }
          return out;
        });
      // A range read first: the blocks go into the cache without tails.
      await storage.select({ matchers: ALL, startMs: T0 + WINDOW_MS, endMs: lastMs });
      const withoutTails = storage.counters.chunkCacheBytes;
      const reads: [number, number][] = [
        [lastMs - 300_000, lastMs], // an instant query at the last sample
        [lastMs - 600_000, lastMs - 60_000], // ten minutes, ending before the last sample
        [lastMs - 299_999, lastMs - 1], // between samples at both ends
        [lastMs - 30 * 60_000, lastMs], // longer than any tail
      ];
      for (const [startMs, endMs] of reads) {
        for (let round = 0; round < 2; round++) {
          const got = await storage.select({ matchers: ALL, startMs, endMs });
          expect(got.map(pairs), `[${startMs - lastMs}, ${endMs - lastMs}] round ${round}`).to.deep.equal(expected(startMs, endMs));
        }
      }
      // Tails of the decimal-valued half of the series, at most 48 samples of 16 bytes each.
      const grown = storage.counters.chunkCacheBytes - withoutTails;
      expect(grown).to.be.within(1, (SERIES / 2) * 48 * 16);
    } finally {
      await storage.close();
    }
  });

  it('counts the whole memory an entry holds', () => {
    const t = Float64Array.from({ length: 100 }, (_, i) => i * STEP_MS);
    const v = Float64Array.from({ length: 100 }, (_, i) => i);
    const block = inflateBlock(encodeBlock(t, v));
    expect(block.body.buffer.byteLength).to.equal(block.body.byteLength); // owns its bytes
    const cache = new ChunkCache(1 << 20);
    cache.set('a', block);
    cache.set('b', { timestamps: t, values: v, words: new Uint32Array(v.buffer) });
    expect(cache.sizeBytes).to.equal(cachedBytes(block) + cachedBytes({ timestamps: t, values: v, words: new Uint32Array(v.buffer) }));
    expect(cachedBytes(block)).to.be.lessThan(block.body.byteLength + 1000);
  });
});

import { expect } from 'chai';
import { decodeXorChunk } from '../../../src/chunk/index.js';
import { MemoryKv } from '../../../src/kv/memory.js';
import type { Matcher } from '../../../src/model/matchers.js';
import { Storage } from '../../../src/storage/index.js';
import { CHUNK_ENCODING_BLOCK, DAY_MS, NS_CHUNK, WINDOW_MS, decodeChunkHeader } from '../../../src/storage/keys.js';
import { compactNow } from '../../../src/storage/maintenance/compact-now.js';
import { applyRetention } from '../../../src/storage/maintenance/retention.js';
import type { SeriesData } from '../../../src/storage/types.js';
import { FakeClock } from './fake-clock.js';
import { labels } from './fixture.js';
import { appendBatchOf } from '../../../src/storage/append-batch.js';

const T0 = 20_000 * DAY_MS;
const ALL: Matcher[] = [{ type: '=~', name: '__name__', value: 'm.*' }];
const STALE_BITS = [0x0000_0002, 0x7ff0_0000];

function bitsOf(values: Float64Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length * 2));
}

function fingerprint(data: readonly SeriesData[]): string[] {
  return data.map((s) => `${JSON.stringify(s.labels)} ${Array.from(s.timestamps).join(',')} ${bitsOf(s.values).join(',')}`);
}

async function chunkEncodings(kv: MemoryKv): Promise<number[]> {
  const page = await kv.scan({ start: Uint8Array.of(NS_CHUNK), end: Uint8Array.of(NS_CHUNK + 1), limit: 100_000 });
  return page.entries.map((e) => decodeChunkHeader(e.value).encoding);
}

describe('storage/maintenance compactNow', () => {
  it('closes the head, rewrites every window into blocks, and reads (select and remote-read chunks), deletion and retention work on them', async () => {
    const kv = new MemoryKv();
    // The clock sits inside the last window, so the scheduler's grace would leave it alone.
    const clock = new FakeClock(T0 + 3 * WINDOW_MS + 600_000);
    const storage = await Storage.open(kv, { clock, writerId: 9n, headFlush: { intervalMs: 60_000 } });
    try {
      const n = (3 * WINDOW_MS + 600_000) / 15_000;
      const timestamps = Float64Array.from({ length: n }, (_, i) => T0 + i * 15_000);
      const counter = Float64Array.from({ length: n }, (_, i) => Math.round(i * 12.34 * 100) / 100);
      const gauge = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 10) * 1e6);
      const withStale = Float64Array.from({ length: n }, (_, i) => i % 4096);
      new Uint32Array(withStale.buffer).set(STALE_BITS, 2 * 500);
      await storage.append(appendBatchOf([
        { labels: labels({ __name__: 'm_counter', job: 'j' }), timestamps, values: counter },
        { labels: labels({ __name__: 'm_gauge', job: 'j' }), timestamps, values: gauge },
        { labels: labels({ __name__: 'm_stale', job: 'j' }), timestamps, values: withStale },
      ]));
      const params = { matchers: ALL, startMs: T0 - 1, endMs: T0 + 4 * WINDOW_MS };
      const before = fingerprint(await storage.select(params));
      const partParams = { matchers: ALL, startMs: T0 + 1_000_000, endMs: T0 + 2 * WINDOW_MS + 5 };
      const partBefore = fingerprint(await storage.select(partParams));

      let reclaimed = 0;
      const summary = await compactNow(
        { kv, closeOpenChunks: () => storage.closeOpenChunks(), reclaimSpace: async (windowsRewritten) => {
          expect(windowsRewritten, 'the pass rewrote windows').to.equal(true);
          return ++reclaimed;
        } },
        clock.nowMs(),
      );
      expect(summary.compaction).to.include({ complete: true, windowsCompacted: 12, windowsWithOpenChunks: 0, windowsCorrupt: 0 });
      expect(summary.reclaim).to.equal(1);
      expect(new Set(await chunkEncodings(kv))).to.deep.equal(new Set([CHUNK_ENCODING_BLOCK]));

      expect(fingerprint(await storage.select(params))).to.deep.equal(before);
      expect(fingerprint(await storage.select(partParams))).to.deep.equal(partBefore);
      const fresh = await Storage.open(kv, { clock, writerId: 10n });
      try {
        expect(fingerprint(await fresh.select(params))).to.deep.equal(before);
        expect(fingerprint(await fresh.select(partParams))).to.deep.equal(partBefore);
        // Remote read hands out XOR chunks, cut to the range: the blocks are encoded again.
        for (const p of [params, partParams]) {
          const chunks = await fresh.selectChunks(p);
          const asSeries: SeriesData[] = chunks.map((s) => {
            const runs = s.chunks.map((c) => decodeXorChunk(c.data));
            const ts = Float64Array.from(runs.flatMap((r) => Array.from(r.timestamps)));
            const vs = new Float64Array(ts.length);
            let at = 0;
            for (const r of runs) {
              vs.set(r.values, at);
              at += r.values.length;
            }
            for (const c of s.chunks) expect(decodeXorChunk(c.data).timestamps.length).to.be.at.most(120);
            return { labels: s.labels, timestamps: ts, values: vs };
          });
          expect(fingerprint(asSeries)).to.deep.equal(fingerprint(await fresh.select(p)));
        }
      } finally {
        await fresh.close();
      }

      // Samples after the pass start new chunks; a second pass folds them into the window's block.
      await storage.append(appendBatchOf([{ labels: labels({ __name__: 'm_counter', job: 'j' }), timestamps: Float64Array.of(T0 + n * 15_000), values: Float64Array.of(1) }]));
      const again = await compactNow({ kv, closeOpenChunks: () => storage.closeOpenChunks() }, clock.nowMs());
      expect(again.compaction.windowsCompacted).to.equal(1);
      expect(again.reclaim).to.equal(null);
      const last = (await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'm_counter' }], startMs: T0, endMs: T0 + 4 * WINDOW_MS }))[0]!;
      expect(last.timestamps.length).to.equal(n + 1);

      // Deletion cuts a block like a chunk; retention drops whole windows of blocks.
      const cut = { startMs: T0 + WINDOW_MS + 600_000, endMs: T0 + WINDOW_MS + 1_200_000 };
      await storage.deleteSeries({ matcherSets: [[{ type: '=', name: '__name__', value: 'm_gauge' }]], ...cut });
      const gaugeAfter = (await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'm_gauge' }], startMs: T0, endMs: T0 + 4 * WINDOW_MS }))[0]!;
      const kept = Array.from(timestamps).filter((t) => t < cut.startMs || t > cut.endMs);
      expect(Array.from(gaugeAfter.timestamps)).to.deep.equal(kept);
      await applyRetention(kv, { cutoffMs: T0 + 2 * WINDOW_MS, nowMs: clock.nowMs() });
      const afterRetention = await storage.select(params);
      for (const s of afterRetention) expect(s.timestamps[0]).to.be.at.least(T0 + 2 * WINDOW_MS);
      expect(afterRetention).to.have.length(3);
    } finally {
      await storage.close();
    }
  });
});

import { expect } from 'chai';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Matcher } from '../../src/model/matchers.js';
import { Storage } from '../../src/storage/index.js';
import { DAY_MS, WINDOW_MS } from '../../src/storage/keys.js';
import { compactNow } from '../../src/storage/maintenance/compact-now.js';
import { ManualClock, pairs, series } from './helpers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 20_000 * DAY_MS;
const STEP_MS = 15_000;
const SAMPLES = (2 * WINDOW_MS + 1_800_000) / STEP_MS;
const ALL: Matcher[] = [{ type: '=~', name: '__name__', value: 'm.*' }];

/** Samples of series k: every 15 s from T0, value i * (k + 1) + 0.25. */
function expected(k: number, startMs: number, endMs: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = T0 + i * STEP_MS;
    if (t >= startMs && t <= endMs) out.push([t, i * (k + 1) + 0.25]);
  }
  return out;
}

describe('storage short selects over compacted blocks', () => {
  it('returns exactly the samples in range, from a cold and from a warm chunk cache', async () => {
    const clock = new ManualClock(T0 + 3 * WINDOW_MS);
    const kv = new MemoryKv();
    const storage = await Storage.open(kv, { clock, writerId: 4n, headFlush: { intervalMs: 60_000 } });
    try {
      const names = ['m0', 'm1', 'm2'];
      await storage.append(
        appendBatchOf(names.map((name, k) => series({ __name__: name }, Array.from({ length: SAMPLES }, (_, i) => [T0 + i * STEP_MS, i * (k + 1) + 0.25] as const)))),
      );
      await compactNow({ kv, closeOpenChunks: () => storage.closeOpenChunks() }, clock.nowMs());
      const ranges: [number, number][] = [
        [T0 + WINDOW_MS - 300_000, T0 + WINDOW_MS - 1], // the end of a block
        [T0 + WINDOW_MS - 300_000, T0 + WINDOW_MS + 300_000], // across two blocks
        [T0 + 2 * WINDOW_MS + 1_500_000, T0 + 2 * WINDOW_MS + 1_800_000], // past the last sample
        [T0 - 300_000, T0], // the first sample only
        [T0 + 100, T0 + 200], // between two samples
        [T0, T0 + 3 * WINDOW_MS], // everything
      ];
      for (let round = 0; round < 2; round++) {
        for (const [startMs, endMs] of ranges) {
          const got = await storage.select({ matchers: ALL, startMs, endMs });
          const want = names.map((_, k) => expected(k, startMs, endMs)).filter((s) => s.length > 0);
          expect(got.map(pairs), `round ${round}, ${startMs - T0}..${endMs - T0}`).to.deep.equal(want);
        }
      }
    } finally {
      await storage.close();
    }
  });
});

import { expect } from 'chai';
import { MemoryKv } from '../../../src/kv/memory.js';
import type { Matcher } from '../../../src/model/matchers.js';
import { formatLabels } from '../../../src/model/labels.js';
import { Storage } from '../../../src/storage/index.js';
import { DAY_MS, WINDOW_MS } from '../../../src/storage/keys.js';
import { compactClosedWindows } from '../../../src/storage/maintenance/compaction.js';
import { applyRetention } from '../../../src/storage/maintenance/retention.js';
import type { SeriesData } from '../../../src/storage/types.js';
import { FakeClock } from './fake-clock.js';
import { labels } from './fixture.js';
import { appendBatchOf } from '../../../src/storage/append-batch.js';

const T0 = 20_000 * DAY_MS + 3 * WINDOW_MS;
const SPAN_MS = 4 * WINDOW_MS;
const ALL: Matcher[] = [{ type: '=~', name: '__name__', value: 'm.*' }];

/** A deterministic generator so failures can be replayed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

/** Every read as text with exact value bits, so NaN payloads compare too. */
function fingerprint(data: readonly SeriesData[]): string[] {
  return data.map((s) => {
    const bits = new Uint32Array(s.values.buffer, s.values.byteOffset, s.values.length * 2);
    return `${formatLabels(s.labels)} ${Array.from(s.timestamps).join(',')} ${Array.from(bits).join(',')}`;
  });
}

async function readAll(s: Storage): Promise<string[][]> {
  const ranges: [number, number][] = [
    [T0 - WINDOW_MS, T0 + SPAN_MS + WINDOW_MS],
    [T0 + 1_234_567, T0 + WINDOW_MS + 7_654_321],
    [T0 + 2 * WINDOW_MS, T0 + 2 * WINDOW_MS],
  ];
  const out: string[][] = [];
  for (const [startMs, endMs] of ranges) out.push(fingerprint(await s.select({ matchers: ALL, startMs, endMs })));
  return out;
}

/**
 * Three writers on one KV: A scrapes in order, B re-sends an overlapping part with some other
 * values (write-through), C sends out-of-order batches under the buffered policy.
 */
async function populate(kv: MemoryKv, clock: FakeClock): Promise<void> {
  const a = await Storage.open(kv, { clock, writerId: 1n });
  const b = await Storage.open(kv, { clock, writerId: 2n });
  const c = await Storage.open(kv, { clock, writerId: 3n, headFlush: { intervalMs: 5_000 } });
  const random = lcg(7);
  const names = ['m0', 'm1', 'm2', 'm3'];
  for (let step = 0; step < SPAN_MS / 15_000; step += 40) {
    const batch = names.map((name, k) => {
      const timestamps = Float64Array.from({ length: 40 }, (_, i) => T0 + (step + i) * 15_000);
      const values = Float64Array.from({ length: 40 }, (_, i) => k * 1000 + step + i);
      return { labels: labels({ __name__: name, job: 'j' }), timestamps, values };
    });
    await a.append(appendBatchOf(batch));
    if (step % 120 === 40) {
      await b.append(
        appendBatchOf(batch.map((s) => ({ ...s, values: s.values.map((v, i) => (i % 4 === 0 ? v + 0.5 : v)) }))),
      );
    }
  }
  for (let round = 0; round < 30; round++) {
    const n = 20;
    const timestamps = Float64Array.from({ length: n }, () => T0 + Math.floor(random() * SPAN_MS));
    const values = Float64Array.from({ length: n }, () => Math.round(random() * 100));
    if (round === 3) values[0] = Number.NaN;
    await c.append(appendBatchOf([{ labels: labels({ __name__: 'm2', job: 'j' }), timestamps, values }]));
  }
  await a.close();
  await b.close();
  await c.close();
}

describe('storage/maintenance with the storage read path', () => {
  it('compaction leaves every read identical, through the chunk cache too', async () => {
    const kv = new MemoryKv();
    const clock = new FakeClock(T0 + SPAN_MS + 10_000);
    await populate(kv, clock);
    clock.advance(3 * WINDOW_MS);
    const reader = await Storage.open(kv, { clock, writerId: 9n });
    const before = await readAll(reader);
    expect(before[0]!.length).to.equal(4);

    const summary = await compactClosedWindows(kv, { nowMs: clock.nowMs() });
    expect(summary.windowsCompacted).to.be.greaterThan(4);
    expect(summary.windowsWithOpenChunks).to.equal(0);
    expect(await readAll(reader)).to.deep.equal(before);
    const fresh = await Storage.open(kv, { clock, writerId: 10n });
    expect(await readAll(fresh)).to.deep.equal(before);
    await reader.close();
    await fresh.close();
  });

  it('Storage.deleteSeries removes the range for matching series only', async () => {
    const kv = new MemoryKv();
    const clock = new FakeClock(T0 + SPAN_MS + 10_000);
    await populate(kv, clock);
    clock.advance(DAY_MS);
    const s = await Storage.open(kv, { clock, writerId: 9n });
    const startMs = T0 + 1_000_000;
    const endMs = T0 + WINDOW_MS + 1_000_000;
    const before = await s.select({ matchers: ALL, startMs: T0, endMs: T0 + SPAN_MS });
    await s.deleteSeries({ matcherSets: [[{ type: '=', name: '__name__', value: 'm2' }]], startMs, endMs });
    const after = await s.select({ matchers: ALL, startMs: T0, endMs: T0 + SPAN_MS });
    expect(after.map((d) => formatLabels(d.labels))).to.deep.equal(before.map((d) => formatLabels(d.labels)));
    for (let i = 0; i < before.length; i++) {
      const b = before[i]!;
      const a = after[i]!;
      if (formatLabels(b.labels).startsWith('m2')) {
        const kept = Array.from(b.timestamps).filter((t) => t < startMs || t > endMs);
        expect(Array.from(a.timestamps)).to.deep.equal(kept);
        expect(kept.length).to.be.lessThan(b.timestamps.length);
      } else {
        expect(fingerprint([a])).to.deep.equal(fingerprint([b]));
      }
    }
    await s.close();
  });

  it('retention leaves nothing before the cutoff to read, and the rest unchanged', async () => {
    const kv = new MemoryKv();
    const clock = new FakeClock(T0 + SPAN_MS + 10_000);
    await populate(kv, clock);
    const s = await Storage.open(kv, { clock, writerId: 9n });
    const cutoffMs = T0 + 2 * WINDOW_MS;
    const laterBefore = fingerprint(await s.select({ matchers: ALL, startMs: cutoffMs, endMs: T0 + SPAN_MS }));
    await applyRetention(kv, { cutoffMs, nowMs: clock.nowMs() });
    expect(await s.select({ matchers: ALL, startMs: T0 - WINDOW_MS, endMs: cutoffMs - 1 })).to.deep.equal([]);
    expect(fingerprint(await s.select({ matchers: ALL, startMs: cutoffMs, endMs: T0 + SPAN_MS }))).to.deep.equal(laterBefore);
    await s.close();
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { MemoryKv } from '../../../src/kv/memory.js';
import { CHUNK_ENCODING_BLOCK, WINDOW_MS, chunkWindowPrefix, decodeChunkHeader, decodeChunkKey, writerLeaseName } from '../../../src/storage/keys.js';
import { prefixEnd } from '../../../src/kv/bytes.js';
import { COMPACTION_WRITER, CompactionJob, compactClosedWindows } from '../../../src/storage/maintenance/compaction.js';
import { Lease } from '../../../src/storage/maintenance/lease.js';
import { FakeClock } from './fake-clock.js';
import type { RawSample } from './fixture.js';
import { chunkLayout, putChunk, rawOf } from './fixture.js';
import { referenceRead } from './reference-read.js';

const W0 = 1000 * WINDOW_MS;
const W1 = W0 + WINDOW_MS;
const W2 = W0 + 2 * WINDOW_MS;
const HOUR_MS = 3_600_000;
/** W0 and W1 are closed (W1 ended 90 minutes ago, more than the one-hour grace), W2 is not. */
const NOW_MS = W2 + 90 * 60_000;
const SID = 0x1234_5678_9abc_def0n;
const WRITER_A = 0xaaaan;
const WRITER_B = 0xbbbbn;
const STALE: RawSample = { t: 0, hi: 0x7ff00000, lo: 2 };
const NAN_PAYLOAD: RawSample = { t: 0, hi: 0x7ff80000, lo: 0x1234 };

function at(t: number, s: RawSample): RawSample {
  return { t, hi: s.hi, lo: s.lo };
}

function scrape(fromMs: number, count: number, stepMs: number, value: (i: number) => number): RawSample[] {
  return Array.from({ length: count }, (_, i) => rawOf(fromMs + i * stepMs, value(i)));
}

async function windowChunks(kv: MemoryKv, sid: bigint, windowStartMs: number) {
  const prefix = chunkWindowPrefix(sid, windowStartMs);
  const page = await kv.scan({ start: prefix, end: prefixEnd(prefix), limit: 10_000 });
  return page.entries.map((e) => ({ key: decodeChunkKey(e.key), header: decodeChunkHeader(e.value) }));
}

/** Overlapping, out-of-order and multi-writer data in W0, fragments in W1, and an open W2. */
async function populate(kv: MemoryKv): Promise<void> {
  // Writer A scraped every 15 s and cut at 120 samples: 200 samples in two chunks.
  const a = scrape(W0, 200, 15_000, (i) => i * 1.5);
  await putChunk(kv, SID, WRITER_A, 1n, a.slice(0, 120));
  await putChunk(kv, SID, WRITER_A, 2n, a.slice(120));
  // Writer A again, out of order: samples between the scrapes, and a retried duplicate.
  await putChunk(kv, SID, WRITER_A, 3n, [rawOf(W0 + 5, 7), rawOf(W0 + 17_000, 8), a[40]!, rawOf(W0 + 700_001, 9)]);
  // Writer B overlaps A's samples 100..160 with different values at some timestamps.
  const b = a.slice(100, 160).map((s, i) => (i % 3 === 0 ? rawOf(s.t, -1 - i) : i % 3 === 1 ? s : rawOf(s.t, 1e9 + i)));
  b[5] = at(b[5]!.t, STALE);
  b[6] = at(b[6]!.t, NAN_PAYLOAD);
  await putChunk(kv, SID, WRITER_B, 1n, b);
  // W1: three small fragments of one writer that together fit one chunk.
  await putChunk(kv, SID, WRITER_B, 2n, scrape(W1, 30, 60_000, (i) => i));
  await putChunk(kv, SID, WRITER_B, 3n, scrape(W1 + 30 * 60_000 - 30_000, 30, 60_000, (i) => -i));
  await putChunk(kv, SID, WRITER_A, 4n, scrape(W1 + 10_000, 10, 60_000, () => 42));
  // W2 is still being written: two writers, left alone.
  await putChunk(kv, SID, WRITER_A, 5n, scrape(W2, 50, 15_000, (i) => i), false);
  await putChunk(kv, SID, WRITER_B, 4n, scrape(W2 + 1, 50, 15_000, (i) => i), false);
}

describe('storage/maintenance/compaction', () => {
  it('merges overlapping, out-of-order and multi-writer chunks of closed windows without changing reads', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    const before = await referenceRead(kv, SID);
    const partBefore = await referenceRead(kv, SID, W0 + 1_000_000, W1 + 100_000);
    const w2Before = await windowChunks(kv, SID, W2);

    const summary = await compactClosedWindows(kv, { nowMs: NOW_MS });
    expect(summary).to.include({ complete: true, windowsCompacted: 2, windowsExamined: 2, windowsCorrupt: 0 });

    expect(await referenceRead(kv, SID)).to.deep.equal(before);
    expect(await referenceRead(kv, SID, W0 + 1_000_000, W1 + 100_000)).to.deep.equal(partBefore);

    const w0 = await windowChunks(kv, SID, W0);
    const w0Samples = before.filter((s) => s.t < W1).length;
    expect(w0Samples).to.equal(203);
    const generation = BigInt(NOW_MS) << 16n;
    expect(w0.map((c) => [c.key.writer, c.key.seq, c.header.closed, c.header.encoding])).to.deep.equal([
      [COMPACTION_WRITER, generation, true, CHUNK_ENCODING_BLOCK],
    ]);
    expect(w0[0]!.header.minTimeMs).to.equal(W0);
    expect(w0[0]!.header.maxTimeMs).to.equal(before.filter((s) => s.t < W1).at(-1)!.t);
    const w1 = await windowChunks(kv, SID, W1);
    expect(w1.map((c) => [c.key.writer, c.key.seq])).to.deep.equal([[COMPACTION_WRITER, generation]]);
    expect(await windowChunks(kv, SID, W2)).to.deep.equal(w2Before);
  });

  it('keeps the winning value bits: the larger unsigned pattern, NaN payloads and staleness markers included', async () => {
    const kv = new MemoryKv();
    const t = W0 + 60_000;
    await putChunk(kv, SID, WRITER_A, 1n, [rawOf(t - 1, 1), at(t, STALE), rawOf(t + 1, 2)]);
    await putChunk(kv, SID, WRITER_B, 1n, [rawOf(t, 5), at(t + 1, NAN_PAYLOAD), rawOf(t + 2, -3)]);
    await compactClosedWindows(kv, { nowMs: NOW_MS });
    expect(await referenceRead(kv, SID)).to.deep.equal([rawOf(t - 1, 1), at(t, STALE), at(t + 1, NAN_PAYLOAD), rawOf(t + 2, -3)]);
    expect((await windowChunks(kv, SID, W0)).length).to.equal(1);
  });

  it('is idempotent: a second pass rewrites nothing', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    await compactClosedWindows(kv, { nowMs: NOW_MS });
    const layout = await chunkLayout(kv);
    const read = await referenceRead(kv, SID);
    const again = await compactClosedWindows(kv, { nowMs: NOW_MS });
    expect(again).to.include({ windowsCompacted: 0, chunksWritten: 0, chunksDeleted: 0, complete: true });
    expect(await chunkLayout(kv)).to.deep.equal(layout);
    expect(await referenceRead(kv, SID)).to.deep.equal(read);
  });

  it('writes a window compacted again under new keys, never rewriting a key other nodes may cache', async () => {
    const kv = new MemoryKv();
    await populate(kv);
    await compactClosedWindows(kv, { nowMs: NOW_MS });
    const first = (await windowChunks(kv, SID, W0)).map((c) => c.key.seq);
    // A late sample arrives in W0; the clock of the next compactor lags behind the first one's.
    await putChunk(kv, SID, WRITER_B, 99n, [rawOf(W0 + 1, 123)]);
    const before = await referenceRead(kv, SID);
    await compactClosedWindows(kv, { nowMs: NOW_MS - 60_000 });
    const second = (await windowChunks(kv, SID, W0)).map((c) => c.key.seq);
    expect(second).to.have.length(1);
    for (const seq of second) expect(first).to.not.include(seq);
    expect(second[0]! >> 16n).to.equal((first[0]! >> 16n) + 1n);
    expect(await referenceRead(kv, SID)).to.deep.equal(before);
  });

  it('rewrites a window of one writer\'s XOR chunks into one block, and leaves the block alone afterwards', async () => {
    const kv = new MemoryKv();
    const samples = scrape(W0, 300, 15_000, (i) => i);
    await putChunk(kv, SID, WRITER_A, 1n, samples.slice(0, 120));
    await putChunk(kv, SID, WRITER_A, 2n, samples.slice(120, 240));
    await putChunk(kv, SID, WRITER_A, 3n, samples.slice(240));
    const before = await referenceRead(kv, SID);
    const first = await compactClosedWindows(kv, { nowMs: NOW_MS });
    expect(first).to.include({ windowsExamined: 1, windowsCompacted: 1, chunksWritten: 1, chunksDeleted: 3 });
    expect((await windowChunks(kv, SID, W0)).map((c) => c.header.encoding)).to.deep.equal([CHUNK_ENCODING_BLOCK]);
    expect(await referenceRead(kv, SID)).to.deep.equal(before);
    const layout = await chunkLayout(kv);
    const summary = await compactClosedWindows(kv, { nowMs: NOW_MS });
    expect(summary).to.include({ windowsExamined: 1, windowsCompacted: 0 });
    expect(await chunkLayout(kv)).to.deep.equal(layout);
  });

  it('skips a window with an open chunk of a live writer and compacts it once that writer has died', async () => {
    const kv = new MemoryKv();
    const clock = new FakeClock(NOW_MS);
    const writerLease = new Lease(kv, writerLeaseName(WRITER_A), 'node-a', { ttlMs: 60_000, clock });
    expect(await writerLease.acquire()).to.equal(true);
    await putChunk(kv, SID, WRITER_A, 1n, scrape(W0, 10, 15_000, (i) => i), false);
    await putChunk(kv, SID, WRITER_B, 1n, scrape(W0 + 1, 10, 15_000, (i) => i));
    const layout = await chunkLayout(kv);
    const live = await compactClosedWindows(kv, { nowMs: clock.nowMs() });
    expect(live).to.include({ windowsWithOpenChunks: 1, windowsCompacted: 0, retryFromMs: W0 });
    expect(await chunkLayout(kv)).to.deep.equal(layout);

    clock.advance(60_000);
    const before = await referenceRead(kv, SID);
    const dead = await compactClosedWindows(kv, { nowMs: clock.nowMs() });
    expect(dead).to.include({ windowsWithOpenChunks: 0, windowsCompacted: 1 });
    expect(await referenceRead(kv, SID)).to.deep.equal(before);
  });

  it('reaches the same end state when stopped after every window and run again', async () => {
    const reference = new MemoryKv();
    await populate(reference);
    await putChunk(reference, SID + 1n, WRITER_A, 1n, scrape(W0, 5, 1000, (i) => i));
    await putChunk(reference, SID + 1n, WRITER_B, 1n, scrape(W0, 5, 1000, (i) => i + 0.5));
    await compactClosedWindows(reference, { nowMs: NOW_MS });

    const kv = new MemoryKv();
    await populate(kv);
    await putChunk(kv, SID + 1n, WRITER_A, 1n, scrape(W0, 5, 1000, (i) => i));
    await putChunk(kv, SID + 1n, WRITER_B, 1n, scrape(W0, 5, 1000, (i) => i + 0.5));
    let passes = 0;
    let complete = false;
    while (!complete && passes < 20) {
      passes++;
      complete = (await compactClosedWindows(kv, { nowMs: NOW_MS, pageSize: 2, shouldContinue: () => false })).complete;
    }
    expect(passes).to.equal(4);
    expect(await chunkLayout(kv)).to.deep.equal(await chunkLayout(reference));
    expect(await referenceRead(kv, SID)).to.deep.equal(await referenceRead(reference, SID));
  });

  it('keeps reads identical for random overlapping multi-writer data', async () => {
    const sample = fc.record({
      window: fc.integer({ min: 0, max: 2 }),
      offsetMs: fc.integer({ min: 0, max: 400 }).map((k) => k * 1000),
      value: fc.constantFrom(0, 1, -1, 2.5, 1e300, Infinity, -0, Number.NaN, 7),
      special: fc.constantFrom('none', 'none', 'none', 'stale', 'nan-payload'),
    });
    const chunk = fc.record({
      writer: fc.constantFrom(WRITER_A, WRITER_B, 0xccccn),
      samples: fc.array(sample, { minLength: 1, maxLength: 150 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
        const kv = new MemoryKv();
        let seq = 1n;
        for (const c of chunks) {
          // One stored chunk per window touched: sorted, one sample per timestamp.
          const byWindow = new Map<number, Map<number, RawSample>>();
          for (const s of c.samples) {
            const t = W0 + s.window * WINDOW_MS + s.offsetMs;
            const raw = s.special === 'stale' ? at(t, STALE) : s.special === 'nan-payload' ? at(t, NAN_PAYLOAD) : rawOf(t, s.value);
            const m = byWindow.get(s.window) ?? new Map<number, RawSample>();
            m.set(t, raw);
            byWindow.set(s.window, m);
          }
          for (const m of byWindow.values()) {
            await putChunk(kv, SID, c.writer, seq++, [...m.values()].sort((x, y) => x.t - y.t));
          }
        }
        const before = await referenceRead(kv, SID);
        const summary = await compactClosedWindows(kv, { nowMs: NOW_MS });
        expect(summary.windowsCorrupt).to.equal(0);
        expect(await referenceRead(kv, SID)).to.deep.equal(before);
        for (const w of [W0, W1]) {
          const chunksAfter = await windowChunks(kv, SID, w);
          const n = before.filter((s) => s.t >= w && s.t < w + WINDOW_MS).length;
          const writers = new Set(chunksAfter.map((c) => c.key.writer));
          expect(chunksAfter.length).to.equal(Math.ceil(n / 120));
          if (chunksAfter.length > 1) expect([...writers]).to.deep.equal([COMPACTION_WRITER]);
        }
        const layout = await chunkLayout(kv);
        await compactClosedWindows(kv, { nowMs: NOW_MS });
        expect(await chunkLayout(kv)).to.deep.equal(layout);
      }),
      { numRuns: 40, seed: 20261126 },
    );
  });

  it('as a job, looks back one day at first and then only at windows closed since', async () => {
    const kv = new MemoryKv();
    const clock = new FakeClock(NOW_MS);
    const job = new CompactionJob({ kv, clock, initialLookbackMs: 2 * HOUR_MS + 1 });
    await putChunk(kv, SID, WRITER_A, 1n, scrape(W0 - WINDOW_MS, 3, 1000, (i) => i));
    await putChunk(kv, SID, WRITER_B, 1n, scrape(W0 - WINDOW_MS, 3, 1000, (i) => i));
    await putChunk(kv, SID, WRITER_A, 2n, scrape(W1, 3, 1000, (i) => i));
    await putChunk(kv, SID, WRITER_B, 2n, scrape(W1, 3, 1000, (i) => i));
    const ctx = { startedAtMs: clock.nowMs(), shouldContinue: () => true };
    const first = await job.run(ctx);
    // The lookback reaches W1 only; the window before W0 is older than it.
    expect(first).to.include({ windowsCompacted: 1, complete: true, closedBeforeMs: W2 });
    clock.advance(WINDOW_MS);
    await putChunk(kv, SID, WRITER_A, 3n, scrape(W2, 3, 1000, (i) => i));
    await putChunk(kv, SID, WRITER_B, 3n, scrape(W2, 3, 1000, (i) => i));
    const second = await job.run(ctx);
    expect(second).to.include({ windowsCompacted: 1, closedBeforeMs: W2 + WINDOW_MS });
    expect((await windowChunks(kv, SID, W0 - WINDOW_MS)).length).to.equal(2);
  });

  it('as a job, reclaims file space after each complete pass and reports it', async () => {
    const kv = new MemoryKv();
    const clock = new FakeClock(NOW_MS);
    let calls = 0;
    const job = new CompactionJob({ kv, clock, reclaimSpace: async () => ({ rewritten: ++calls === 1 }) });
    await putChunk(kv, SID, WRITER_A, 1n, scrape(W0, 3, 1000, (i) => i));
    const first = await job.run({ startedAtMs: clock.nowMs(), shouldContinue: () => true });
    expect(first).to.deep.include({ windowsCompacted: 1, complete: true, reclaim: { rewritten: true } });
    const stopping = await job.run({ startedAtMs: clock.nowMs(), shouldContinue: () => false });
    expect(stopping.reclaim).to.equal(null);
    expect(calls).to.equal(1);
  });
});

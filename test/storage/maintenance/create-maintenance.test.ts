import { expect } from 'chai';
import { MemoryKv } from '../../../src/kv/memory.js';
import { DAY_MS, WINDOW_MS } from '../../../src/storage/keys.js';
import { createMaintenance } from '../../../src/storage/maintenance/index.js';
import type { CompactionSummary, RetentionSummary } from '../../../src/storage/maintenance/index.js';
import { FakeClock } from './fake-clock.js';
import { chunkLayout, putChunk, rawOf } from './fixture.js';

describe('storage/maintenance createMaintenance', () => {
  it('runs retention and compaction on the lease holder and reports both', async () => {
    const kv = new MemoryKv();
    const nowMs = 20_000 * DAY_MS + 12 * 3_600_000;
    const clock = new FakeClock(nowMs);
    const old = nowMs - 20 * DAY_MS;
    const recent = nowMs - 3 * WINDOW_MS - (nowMs % WINDOW_MS);
    await putChunk(kv, 1n, 5n, 1n, [rawOf(old, 1)]);
    await putChunk(kv, 2n, 5n, 1n, [rawOf(recent, 1), rawOf(recent + 2000, 3)]);
    await putChunk(kv, 2n, 6n, 1n, [rawOf(recent + 1000, 2)]);
    const a = createMaintenance({ kv, holderId: 'a', clock });
    const b = createMaintenance({ kv, holderId: 'b', clock });
    await a.tick();
    await b.tick();
    const status = a.status();
    expect(status.map((s) => [s.name, s.runs, s.lastError])).to.deep.equal([
      ['retention', 1, null],
      ['compaction', 1, null],
    ]);
    expect((status[0]!.lastSummary as RetentionSummary).chunksDeleted).to.equal(1);
    expect((status[1]!.lastSummary as CompactionSummary).windowsCompacted).to.equal(1);
    expect(b.status().every((s) => s.runs === 0)).to.equal(true);
    expect(await chunkLayout(kv)).to.have.length(1);
    await a.stop();
    await b.stop();
  });
});

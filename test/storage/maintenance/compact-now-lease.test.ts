/** Compaction on request takes the compaction lease: two storages and two schedulers on one KV. */
import { expect } from 'chai';
import { MetricstorError } from '../../../src/errors.js';
import { MemoryKv } from '../../../src/kv/memory.js';
import { Storage } from '../../../src/storage/index.js';
import { DAY_MS, WINDOW_MS } from '../../../src/storage/keys.js';
import { compactNow, type CompactNowSummary } from '../../../src/storage/maintenance/compact-now.js';
import { CompactionJob } from '../../../src/storage/maintenance/compaction.js';
import { readLease } from '../../../src/storage/maintenance/lease.js';
import { MaintenanceScheduler } from '../../../src/storage/maintenance/scheduler.js';
import { FakeClock } from './fake-clock.js';
import { labels } from './fixture.js';
import { appendBatchOf } from '../../../src/storage/append-batch.js';

const T0 = 20_000 * DAY_MS;
const TTL_MS = 30_000;

interface Node {
  readonly storage: Storage;
  readonly scheduler: MaintenanceScheduler;
}

describe('storage/maintenance compaction on request under the lease', () => {
  let kv: MemoryKv;
  let clock: FakeClock;
  let nodes: Node[];

  beforeEach(() => {
    kv = new MemoryKv();
    clock = new FakeClock(T0 + 3 * WINDOW_MS + 600_000);
    nodes = [];
  });
  afterEach(async () => {
    for (const n of nodes) {
      await n.scheduler.stop();
      await n.storage.close();
    }
  });

  async function node(holderId: string, writerId: bigint): Promise<Node> {
    const storage = await Storage.open(kv, { clock, writerId, headFlush: { intervalMs: 60_000 } });
    const scheduler = new MaintenanceScheduler({ kv, holderId, jobs: [new CompactionJob({ kv, clock })], leaseTtlMs: TTL_MS, clock });
    const n = { storage, scheduler };
    nodes.push(n);
    const count = (3 * WINDOW_MS) / 15_000;
    await storage.append(appendBatchOf([
      {
        labels: labels({ __name__: 'm_requests', node: holderId }),
        timestamps: Float64Array.from({ length: count }, (_, i) => T0 + i * 15_000),
        values: Float64Array.from({ length: count }, (_, i) => i),
      },
    ]));
    return n;
  }

  function compactOn(n: Node, started?: () => Promise<void>): Promise<CompactNowSummary> {
    return n.scheduler.runNow('compaction', async (ctx) => {
      await started?.();
      return compactNow({ kv, closeOpenChunks: () => n.storage.closeOpenChunks() }, clock.nowMs(), ctx.shouldContinue);
    });
  }

  it('runs on the holder, answers unavailable naming the holder elsewhere, and follows the lease when it moves', async () => {
    const a = await node('node-a', 1n);
    const b = await node('node-b', 2n);
    await a.scheduler.tick();
    await b.scheduler.tick();
    expect((await readLease(kv, 'compaction'))?.holder).to.equal('node-a');

    const refused: unknown = await compactOn(b).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(MetricstorError);
    expect((refused as MetricstorError).type).to.equal('unavailable');
    expect((refused as MetricstorError).message).to.contain('held by node-a');

    const done = await compactOn(a);
    expect(done.compaction).to.include({ complete: true, windowsCorrupt: 0 });
    expect(done.compaction.windowsCompacted).to.be.at.least(1);

    // The holder stops (and gives the lease up): the other node's request takes it and runs.
    await a.scheduler.stop();
    const moved = await compactOn(b);
    expect(moved.compaction.complete).to.equal(true);
    expect((await readLease(kv, 'compaction'))?.holder).to.equal('node-b');
    expect(b.scheduler.status()[0]?.leaseHeld).to.equal(true);
  });

  it('keeps the scheduled compaction of the same node from starting while a request runs', async () => {
    const a = await node('node-a', 1n);
    await a.scheduler.tick();
    expect(a.scheduler.status()[0]?.runs).to.equal(1);

    let enter = (): void => {};
    const entered = new Promise<void>((resolve) => (enter = resolve));
    let proceed = (): void => {};
    const gate = new Promise<void>((resolve) => (proceed = resolve));
    const request = compactOn(a, async () => {
      enter();
      await gate;
    });
    await entered;
    clock.advance(2 * 3_600_000);
    await a.scheduler.tick();
    expect(a.scheduler.status()[0]).to.include({ runs: 1, running: true });
    proceed();
    expect((await request).compaction.complete).to.equal(true);

    await a.scheduler.tick();
    expect(a.scheduler.status()[0]).to.include({ runs: 2, running: false });
  });
});

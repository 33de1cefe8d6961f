import { expect } from 'chai';
import { MetricstorError } from '../../../src/errors.js';
import { MemoryKv } from '../../../src/kv/memory.js';
import { readLease } from '../../../src/storage/maintenance/lease.js';
import type { JobContext, MaintenanceJob } from '../../../src/storage/maintenance/scheduler.js';
import { MaintenanceScheduler } from '../../../src/storage/maintenance/scheduler.js';
import { FakeClock } from './fake-clock.js';

const TTL_MS = 30_000;

class CountingJob implements MaintenanceJob {
  readonly runsBy: string[] = [];
  failNext = false;
  constructor(
    readonly name: string,
    readonly intervalMs: number,
    private readonly node: string,
    private readonly log: string[],
  ) {}

  async run(): Promise<unknown> {
    this.log.push(`${this.name}@${this.node}`);
    if (this.failNext) {
      this.failNext = false;
      throw new MetricstorError('unavailable', 'kv went away');
    }
    return { node: this.node };
  }
}

describe('storage/maintenance/scheduler', () => {
  let kv: MemoryKv;
  let clock: FakeClock;
  let log: string[];

  beforeEach(() => {
    kv = new MemoryKv();
    clock = new FakeClock(5_000_000);
    log = [];
  });

  function node(id: string, intervalMs = 60_000): { scheduler: MaintenanceScheduler; jobs: CountingJob[] } {
    const jobs = [new CountingJob('retention', intervalMs, id, log), new CountingJob('compaction', intervalMs, id, log)];
    return { scheduler: new MaintenanceScheduler({ kv, holderId: id, jobs, leaseTtlMs: TTL_MS, clock }), jobs };
  }

  it('runs each job on one node only, once per interval', async () => {
    const a = node('a');
    const b = node('b');
    await a.scheduler.tick();
    await b.scheduler.tick();
    expect(log.sort()).to.deep.equal(['compaction@a', 'retention@a']);
    for (let i = 1; i <= 6; i++) {
      clock.advance(10_000);
      await b.scheduler.tick();
      await a.scheduler.tick();
      expect(log).to.have.length(i < 6 ? 2 : 4);
    }
    expect(log.slice(2).sort()).to.deep.equal(['compaction@a', 'retention@a']);
    const status = a.scheduler.status();
    expect(status.map((s) => [s.name, s.runs, s.leaseHeld])).to.deep.equal([
      ['retention', 2, true],
      ['compaction', 2, true],
    ]);
    expect(b.scheduler.status().every((s) => s.runs === 0 && !s.leaseHeld)).to.equal(true);
  });

  it('moves the work to another node after the holder stops ticking for a lease TTL', async () => {
    const a = node('a');
    const b = node('b');
    await a.scheduler.tick();
    clock.advance(TTL_MS - 1);
    await b.scheduler.tick();
    expect(log.filter((l) => l.endsWith('@b'))).to.deep.equal([]);
    clock.advance(1);
    await b.scheduler.tick();
    expect(log.filter((l) => l.endsWith('@b')).sort()).to.deep.equal(['compaction@b', 'retention@b']);
    expect((await readLease(kv, 'retention'))?.holder).to.equal('b');
    // The old holder comes back and finds the leases taken.
    clock.advance(TTL_MS);
    await b.scheduler.tick();
    await a.scheduler.tick();
    expect(a.scheduler.status().every((s) => !s.leaseHeld)).to.equal(true);
  });

  it('records a failed run and clears the error after the next good one', async () => {
    const a = node('a', 1_000);
    a.jobs[0]!.failNext = true;
    await a.scheduler.tick();
    let retention = a.scheduler.status()[0]!;
    expect(retention.failures).to.equal(1);
    expect(retention.lastError).to.equal('kv went away');
    clock.advance(1_000);
    await a.scheduler.tick();
    retention = a.scheduler.status()[0]!;
    expect(retention.runs).to.equal(2);
    expect(retention.failures).to.equal(1);
    expect(retention.lastError).to.equal(null);
    expect(retention.lastSummary).to.deep.equal({ node: 'a' });
  });

  it('keeps running when the KV is unreachable for a while and reports it', async () => {
    const a = node('a');
    kv.setUnavailable(true);
    await a.scheduler.tick();
    expect(log).to.deep.equal([]);
    expect(a.scheduler.status()[0]!.lastError).to.match(/^lease: /);
    kv.setUnavailable(false);
    await a.scheduler.tick();
    expect(log).to.have.length(2);
  });

  it('on stop lets a running job see shouldContinue() turn false, then releases its leases', async () => {
    let pages = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const job: MaintenanceJob = {
      name: 'compaction',
      intervalMs: 60_000,
      async run(ctx: JobContext) {
        for (let i = 0; i < 100 && ctx.shouldContinue(); i++) {
          pages++;
          if (i === 2) await gate;
        }
        return pages;
      },
    };
    const scheduler = new MaintenanceScheduler({ kv, holderId: 'a', jobs: [job], leaseTtlMs: TTL_MS, clock });
    const ticking = scheduler.tick();
    await new Promise((resolve) => setImmediate(resolve));
    const stopping = scheduler.stop();
    release();
    await Promise.all([ticking, stopping]);
    expect(pages).to.equal(3);
    expect(scheduler.status()[0]!.lastSummary).to.equal(3);
    expect(await readLease(kv, 'compaction')).to.equal(null);
  });

  it('stops a job between pages once its lease has expired', async () => {
    let pages = 0;
    const job: MaintenanceJob = {
      name: 'retention',
      intervalMs: 60_000,
      async run(ctx: JobContext) {
        for (let i = 0; i < 100 && ctx.shouldContinue(); i++) {
          pages++;
          clock.advance(TTL_MS / 4);
        }
        return pages;
      },
    };
    const scheduler = new MaintenanceScheduler({ kv, holderId: 'a', jobs: [job], leaseTtlMs: TTL_MS, clock });
    await scheduler.tick();
    expect(pages).to.equal(4);
  });
});

import { expect } from 'chai';
import { MemoryKv } from '../../../src/kv/memory.js';
import { Lease, leaseExpired, listLeases, readLease } from '../../../src/storage/maintenance/lease.js';
import { leaseKey } from '../../../src/storage/maintenance/keys.js';
import { FakeClock } from './fake-clock.js';

const TTL_MS = 10_000;

describe('storage/maintenance/lease', () => {
  let kv: MemoryKv;
  let clock: FakeClock;
  let a: Lease;
  let b: Lease;

  beforeEach(() => {
    kv = new MemoryKv();
    clock = new FakeClock(1_000_000);
    a = new Lease(kv, 'retention', 'node-a', { ttlMs: TTL_MS, clock });
    b = new Lease(kv, 'retention', 'node-b', { ttlMs: TTL_MS, clock });
  });

  it('lets exactly one of two holders take a free lease', async () => {
    expect(await a.acquire()).to.equal(true);
    expect(await b.acquire()).to.equal(false);
    expect(a.isHeld()).to.equal(true);
    expect(b.isHeld()).to.equal(false);
    const record = await readLease(kv, 'retention');
    expect(record).to.deep.equal({ holder: 'node-a', epoch: 1, expiresAtMs: 1_000_000 + TTL_MS });
  });

  it('gives exactly one winner when both race for it', async () => {
    const results = await Promise.all([a.acquire(), b.acquire()]);
    expect(results.filter((r) => r)).to.have.length(1);
    expect(a.isHeld() !== b.isHeld()).to.equal(true);
  });

  it('keeps the lease while the holder renews, past many TTLs', async () => {
    expect(await a.acquire()).to.equal(true);
    for (let i = 0; i < 10; i++) {
      clock.advance(TTL_MS / 2);
      expect(await a.renew()).to.equal(true);
      expect(await b.acquire()).to.equal(false);
    }
    expect(a.isHeld()).to.equal(true);
    expect((await readLease(kv, 'retention'))?.epoch).to.equal(1);
  });

  it('passes to another holder once the first stops renewing for a TTL', async () => {
    expect(await a.acquire()).to.equal(true);
    clock.advance(TTL_MS - 1);
    expect(a.isHeld()).to.equal(true);
    expect(await b.acquire()).to.equal(false);
    clock.advance(1);
    expect(a.isHeld()).to.equal(false);
    expect(await b.acquire()).to.equal(true);
    expect(b.epoch()).to.equal(2);
    // The old holder cannot renew or re-take it while the new one holds it.
    expect(await a.renew()).to.equal(false);
    expect(await a.acquire()).to.equal(false);
    expect((await readLease(kv, 'retention'))?.holder).to.equal('node-b');
  });

  it('lets the holder renew a lease that expired but nobody took', async () => {
    expect(await a.acquire()).to.equal(true);
    clock.advance(TTL_MS * 3);
    expect(a.isHeld()).to.equal(false);
    expect(await a.renew()).to.equal(true);
    expect(a.isHeld()).to.equal(true);
    expect(a.epoch()).to.equal(1);
  });

  it('frees the lease on release so another holder takes it at once', async () => {
    expect(await a.acquire()).to.equal(true);
    await a.release();
    expect(a.isHeld()).to.equal(false);
    expect(await readLease(kv, 'retention')).to.equal(null);
    expect(await b.acquire()).to.equal(true);
    // Releasing a lease we no longer hold leaves the new holder alone.
    await a.release();
    expect((await readLease(kv, 'retention'))?.holder).to.equal('node-b');
  });

  it('recognises its own record after a process restart with the same holder id', async () => {
    expect(await a.acquire()).to.equal(true);
    const again = new Lease(kv, 'retention', 'node-a', { ttlMs: TTL_MS, clock });
    expect(await again.acquire()).to.equal(true);
    expect(again.epoch()).to.equal(1);
    expect(await b.acquire()).to.equal(false);
  });

  it('treats an unreadable record as expired', async () => {
    await kv.batch([{ type: 'put', key: leaseKey('retention'), value: new Uint8Array([1, 2, 3]) }]);
    expect(await b.acquire()).to.equal(true);
    expect(b.epoch()).to.equal(1);
  });

  it('keeps leases of different names apart and lists them by prefix', async () => {
    const w1 = new Lease(kv, 'writer/w1', 'node-a', { ttlMs: TTL_MS, clock });
    const w2 = new Lease(kv, 'writer/w2', 'node-b', { ttlMs: TTL_MS * 2, clock });
    expect(await a.acquire()).to.equal(true);
    expect(await w1.acquire()).to.equal(true);
    expect(await w2.acquire()).to.equal(true);
    const listed = await listLeases(kv, 'writer/', 1);
    expect(listed.map((l) => l.name)).to.deep.equal(['writer/w1', 'writer/w2']);
    clock.advance(TTL_MS);
    const expired = listed.filter((l) => leaseExpired(l.record, clock.nowMs())).map((l) => l.name);
    expect(expired).to.deep.equal(['writer/w1']);
  });
});

import { expect } from 'chai';
import { InFlightLimiter } from '../src/limiter.js';
import { backoffBoundMs, backoffDelayMs, sleep } from '../src/retry.js';

describe('backoff', () => {
  const options = { initialMs: 10, maxMs: 100, multiplier: 2, jitter: 1 };

  it('grows the bound exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 30].map((r) => backoffBoundMs(options, r))).to.deep.equal([10, 20, 40, 80, 100, 100, 100]);
  });

  it('draws full jitter from [0, bound] and partial jitter from [bound * (1 - jitter), bound]', () => {
    expect(backoffDelayMs(options, 2, () => 0)).to.equal(0);
    expect(backoffDelayMs(options, 2, () => 0.5)).to.equal(20);
    expect(backoffDelayMs({ ...options, jitter: 0.25 }, 3, () => 0)).to.equal(60);
    expect(backoffDelayMs({ ...options, jitter: 0 }, 3, () => 0.9)).to.equal(80);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(options, 3);
      expect(d).to.be.within(0, 80);
    }
  });

  it('sleep rejects with the abort reason', async () => {
    const controller = new AbortController();
    const slept = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    const err: unknown = await slept.then(() => null, (e: unknown) => e);
    expect((err as Error).message).to.equal('stop');
  });
});

describe('InFlightLimiter', () => {
  it('grants up to max at once and hands slots to waiters in arrival order', async () => {
    const limiter = new InFlightLimiter(2);
    const r1 = await limiter.acquire();
    const r2 = await limiter.acquire();
    const order: number[] = [];
    const waiting = [3, 4, 5].map((n) => limiter.acquire().then((release) => (order.push(n), release)));
    expect(limiter.queued).to.equal(3);
    r1();
    r1();
    const r3 = await waiting[0]!;
    expect(limiter.inFlight).to.equal(2);
    expect(limiter.queued).to.equal(2);
    r2();
    r3();
    const rest = await Promise.all(waiting.slice(1));
    expect(order).to.deep.equal([3, 4, 5]);
    rest.forEach((release) => release());
    expect(limiter.inFlight).to.equal(0);
  });

  it('tryAcquire takes a free slot at once and answers undefined, queueing nothing, when none is free', () => {
    const limiter = new InFlightLimiter(1);
    const release = limiter.tryAcquire();
    expect(release).to.be.a('function');
    expect(limiter.tryAcquire()).to.equal(undefined);
    expect(limiter.queued).to.equal(0);
    release!();
    expect(limiter.inFlight).to.equal(0);
    limiter.tryAcquire()!();
    expect(limiter.inFlight).to.equal(0);
  });

  it('drops a waiter whose signal aborts, and rejects the rest on demand', async () => {
    const limiter = new InFlightLimiter(1);
    const held = await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal).then(() => 'granted', (e: unknown) => String(e));
    const other = limiter.acquire().then(() => 'granted', (e: unknown) => String(e));
    controller.abort('gone');
    expect(await aborted).to.equal('gone');
    expect(limiter.queued).to.equal(1);
    limiter.rejectWaiting('closed');
    expect(await other).to.equal('closed');
    held();
    expect(limiter.inFlight).to.equal(0);
  });
});

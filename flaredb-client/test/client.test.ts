import { expect } from 'chai';
import { status, type sendUnaryData } from '@grpc/grpc-js';
import { FlareDbClient } from '../src/client.js';
import { startDevServer, type DevServer } from '../src/dev-server.js';
import type { RawGetResponse } from '../src/generated/flaredb/kvrpc.js';
import { bytes, hex, rejectionOf, startFakeServer, type FakeServer } from './helpers.js';

const FOUND: RawGetResponse = { found: true, value: bytes(7) };

/** Polls `check` every 5ms for at most `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('FlareDbClient', () => {
  const toClose: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const c of toClose.splice(0).reverse()) await c.close();
  });
  function track<T extends { close(): unknown }>(c: T): T {
    toClose.push(c);
    return c;
  }

  describe('failover', () => {
    let a: DevServer;
    let b: DevServer;

    beforeEach(async () => {
      a = await startDevServer({ defaultMode: 'eventual', sync: false });
      b = track(await startDevServer({ defaultMode: 'eventual', sync: false }));
    });

    it('moves to the next endpoint when the current one is stopped, and stays there', async () => {
      const client = track(new FlareDbClient({ endpoints: [a.address, b.address], timeoutMs: 3000 }));
      await client.rawPut(bytes(1), bytes(1));
      expect(client.currentEndpoint).to.equal(a.address);
      await a.close();
      const started = Date.now();
      await client.rawPut(bytes(2), bytes(2));
      expect(Date.now() - started).to.be.below(2000);
      expect(client.currentEndpoint).to.equal(b.address);
      expect(client.stats().failovers).to.equal(1);
      expect(hex(await client.rawGet(bytes(2)))).to.equal('02');
      // The first key went to the stopped server only.
      expect(await client.rawGet(bytes(1))).to.equal(null);
      const direct = track(new FlareDbClient({ endpoints: [b.address] }));
      expect(hex(await direct.rawGet(bytes(2)))).to.equal('02');
    });

    it('fails within the deadline when every endpoint is down', async () => {
      await a.close();
      await b.close();
      const client = track(
        new FlareDbClient({ endpoints: [a.address, b.address], timeoutMs: 800, maxAttempts: 100, backoff: { initialMs: 20, maxMs: 100 } }),
      );
      const started = Date.now();
      const err = await rejectionOf(client.rawGet(bytes(1)));
      const elapsed = Date.now() - started;
      // UNAVAILABLE, or DEADLINE_EXCEEDED when the deadline fell during an attempt.
      expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).to.include(err.code);
      expect(elapsed).to.be.below(1500);
      expect(client.stats().attempts).to.be.above(2);
    });
  });

  describe('deadlines', () => {
    it('fails with DEADLINE_EXCEEDED when a server never answers, within the deadline', async () => {
      const held: sendUnaryData<RawGetResponse>[] = [];
      const fake = track(await startFakeServer({ rawGet: (_call, cb) => void held.push(cb) }));
      const client = track(new FlareDbClient({ endpoints: [fake.address], timeoutMs: 5000 }));
      const started = Date.now();
      const err = await rejectionOf(client.rawGet(bytes(1), { timeoutMs: 300 }));
      const elapsed = Date.now() - started;
      expect(err.code).to.equal(status.DEADLINE_EXCEEDED);
      expect(err.retryable).to.equal(false);
      expect(elapsed).to.be.at.least(250);
      expect(elapsed).to.be.below(1500);
      expect(client.stats().attempts).to.equal(1);
    });

    it('sends later calls to the next endpoint after one that ran out of time', async () => {
      const held: sendUnaryData<RawGetResponse>[] = [];
      const silent = track(await startFakeServer({ rawGet: (_call, cb) => void held.push(cb) }));
      const server = track(await startDevServer({ defaultMode: 'eventual', sync: false }));
      const client = track(new FlareDbClient({ endpoints: [silent.address, server.address], timeoutMs: 300 }));
      expect((await rejectionOf(client.rawGet(bytes(1)))).code).to.equal(status.DEADLINE_EXCEEDED);
      expect(client.currentEndpoint).to.equal(server.address);
      await client.rawPut(bytes(1), bytes(3));
      expect(hex(await client.rawGet(bytes(1)))).to.equal('03');
      expect(held).to.have.length(1);
      expect(client.stats()).to.include({ failovers: 1, attempts: 3 });
    });

    it('cancels a call on the wire when the caller aborts it', async () => {
      const held: sendUnaryData<RawGetResponse>[] = [];
      const fake = track(await startFakeServer({ rawGet: (_call, cb) => void held.push(cb) }));
      const client = track(new FlareDbClient({ endpoints: [fake.address], timeoutMs: 5000 }));
      const controller = new AbortController();
      const call = rejectionOf(client.rawGet(bytes(1), { signal: controller.signal }));
      await eventually(() => held.length === 1);
      const started = Date.now();
      controller.abort();
      const err = await call;
      expect(err.code).to.equal(status.CANCELLED);
      expect(Date.now() - started).to.be.below(1000);
      expect(client.stats().inFlight).to.equal(0);
    });

    it('sends nothing for a call whose signal has already aborted', async () => {
      const held: sendUnaryData<RawGetResponse>[] = [];
      const fake = track(await startFakeServer({ rawGet: (_call, cb) => void held.push(cb) }));
      const client = track(new FlareDbClient({ endpoints: [fake.address], timeoutMs: 5000 }));
      const err = await rejectionOf(client.rawGet(bytes(1), { signal: AbortSignal.abort('gone') }));
      expect(err.code).to.equal(status.CANCELLED);
      expect(client.stats()).to.include({ attempts: 0, inFlight: 0 });
      expect(held).to.have.length(0);
    });

    it('counts time spent queued behind the in-flight cap against the deadline', async () => {
      const held: sendUnaryData<RawGetResponse>[] = [];
      const fake = track(await startFakeServer({ rawGet: (_call, cb) => void held.push(cb) }));
      const client = track(new FlareDbClient({ endpoints: [fake.address], maxInFlight: 1, timeoutMs: 5000 }));
      const first = client.rawGet(bytes(1), { timeoutMs: 2000 });
      await eventually(() => held.length === 1);
      const err = await rejectionOf(client.rawGet(bytes(2), { timeoutMs: 200 }));
      expect(err.code).to.equal(status.DEADLINE_EXCEEDED);
      expect(held).to.have.length(1);
      held[0]!(null, FOUND);
      expect(hex(await first)).to.equal('07');
    });
  });

  describe('retries', () => {
    function flaky(failures: status[]): { server: Promise<FakeServer>; calls: () => number } {
      let calls = 0;
      const server = startFakeServer({
        rawGet: (_call, cb) => {
          const code = failures[calls++];
          if (code === undefined) cb(null, FOUND);
          else cb({ code, details: `injected ${status[code]}` });
        },
      });
      return { server, calls: () => calls };
    }

    it('retries retryable codes with growing backoff, then succeeds', async () => {
      const f = flaky([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.ABORTED]);
      const fake = track(await f.server);
      const client = track(
        new FlareDbClient({ endpoints: [fake.address], backoff: { initialMs: 40, maxMs: 1000, multiplier: 2, jitter: 0 } }),
      );
      const started = Date.now();
      expect(hex(await client.rawGet(bytes(1)))).to.equal('07');
      const elapsed = Date.now() - started;
      expect(f.calls()).to.equal(4);
      // Waits of 40, 80 and 160 ms.
      expect(elapsed).to.be.at.least(270);
      expect(elapsed).to.be.below(2000);
      expect(client.stats()).to.include({ calls: 1, attempts: 4, retries: 3 });
    });

    it('does not retry a code that is not retryable', async () => {
      for (const code of [status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.INTERNAL, status.NOT_FOUND]) {
        const f = flaky([code]);
        const fake = track(await f.server);
        const client = track(new FlareDbClient({ endpoints: [fake.address], backoff: { initialMs: 1 } }));
        const err = await rejectionOf(client.rawGet(bytes(1)));
        expect(err.code).to.equal(code);
        expect(err.retryable).to.equal(false);
        expect(err.message).to.include(`injected ${status[code]}`);
        expect(f.calls()).to.equal(1);
      }
    });

    it('gives up after maxAttempts with the last error', async () => {
      const f = flaky(Array<status>(10).fill(status.UNAVAILABLE));
      const fake = track(await f.server);
      const client = track(new FlareDbClient({ endpoints: [fake.address], maxAttempts: 3, backoff: { initialMs: 1 } }));
      const err = await rejectionOf(client.rawGet(bytes(1)));
      expect(err.code).to.equal(status.UNAVAILABLE);
      expect(err.endpoint).to.equal(fake.address);
      expect(f.calls()).to.equal(3);
    });

    it('stops retrying when the next backoff would pass the deadline', async () => {
      const f = flaky(Array<status>(50).fill(status.UNAVAILABLE));
      const fake = track(await f.server);
      const client = track(
        new FlareDbClient({
          endpoints: [fake.address],
          maxAttempts: 50,
          timeoutMs: 500,
          backoff: { initialMs: 150, maxMs: 150, jitter: 0 },
        }),
      );
      const started = Date.now();
      const err = await rejectionOf(client.rawGet(bytes(1)));
      expect(err.code).to.equal(status.UNAVAILABLE);
      expect(Date.now() - started).to.be.below(700);
      expect(f.calls()).to.be.within(2, 4);
    });

    it('tries every endpoint once before backing off', async () => {
      const f1 = flaky([status.UNAVAILABLE]);
      const f2 = flaky([status.UNAVAILABLE]);
      const one = track(await f1.server);
      const two = track(await f2.server);
      const client = track(
        new FlareDbClient({ endpoints: [one.address, two.address], backoff: { initialMs: 300, maxMs: 300, jitter: 0 } }),
      );
      const started = Date.now();
      expect(hex(await client.rawGet(bytes(1)))).to.equal('07');
      // one fails, two fails (no wait between), a 300ms wait, then one answers.
      expect(Date.now() - started).to.be.within(280, 1500);
      expect([f1.calls(), f2.calls()]).to.deep.equal([2, 1]);
      expect(client.currentEndpoint).to.equal(one.address);
    });
  });

  describe('in-flight cap', () => {
    it('keeps at most maxInFlight RPCs on the wire and queues the rest in order', async () => {
      const held: { key: number; cb: sendUnaryData<RawGetResponse> }[] = [];
      let onWire = 0;
      let maxOnWire = 0;
      const fake = track(
        await startFakeServer({
          rawGet: (call, cb) => {
            onWire++;
            maxOnWire = Math.max(maxOnWire, onWire);
            held.push({ key: call.request.key[0]!, cb });
          },
        }),
      );
      const client = track(new FlareDbClient({ endpoints: [fake.address], maxInFlight: 3, timeoutMs: 5000 }));
      const calls = Array.from({ length: 10 }, (_, i) => client.rawGet(bytes(i)));
      await eventually(() => held.length === 3);
      await new Promise((r) => setTimeout(r, 50));
      expect(held).to.have.length(3);
      expect(client.stats()).to.include({ inFlight: 3, queued: 7 });
      const order: number[] = [];
      for (let answered = 0; answered < 10; answered++) {
        await eventually(() => held.length > 0);
        const next = held.shift()!;
        order.push(next.key);
        onWire--;
        next.cb(null, { found: true, value: bytes(next.key) });
      }
      const values = await Promise.all(calls);
      expect(values.map(hex)).to.deep.equal(Array.from({ length: 10 }, (_, i) => hex(bytes(i))));
      expect(maxOnWire).to.equal(3);
      expect(order).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(client.stats()).to.include({ inFlight: 0, queued: 0 });
    });
  });

  describe('shutdown', () => {
    it('cancels calls on the wire, rejects queued ones and refuses new ones', async () => {
      const held: sendUnaryData<RawGetResponse>[] = [];
      const fake = track(await startFakeServer({ rawGet: (_call, cb) => void held.push(cb) }));
      const client = new FlareDbClient({ endpoints: [fake.address], maxInFlight: 2, timeoutMs: 5000 });
      const calls = Array.from({ length: 5 }, (_, i) => rejectionOf(client.rawGet(bytes(i))));
      await eventually(() => held.length === 2);
      const started = Date.now();
      await client.close();
      const errors = await Promise.all(calls);
      expect(Date.now() - started).to.be.below(1000);
      expect(errors.map((e) => e.code)).to.deep.equal(Array<status>(5).fill(status.CANCELLED));
      expect((await rejectionOf(client.rawGet(bytes(9)))).code).to.equal(status.CANCELLED);
      await client.close();
      expect(client.stats()).to.include({ inFlight: 0, queued: 0 });
    });
  });

  describe('options', () => {
    it('works with keepalive options and a default namespace, and refuses bad settings', async () => {
      const server = track(await startDevServer({ namespaces: { ev: 'eventual' }, sync: false }));
      const client = track(
        new FlareDbClient({
          endpoints: [server.address],
          namespace: 'ev',
          keepalive: { timeMs: 10_000, timeoutMs: 1000, permitWithoutCalls: false },
        }),
      );
      await client.rawPut(bytes(1), bytes(2));
      expect(hex(await client.rawGet(bytes(1)))).to.equal('02');
      expect(() => new FlareDbClient({ endpoints: [] })).to.throw(RangeError);
      expect(() => new FlareDbClient({ endpoints: ['127.0.0.1:1'], maxInFlight: 0 })).to.throw(RangeError);
      expect(() => new FlareDbClient({ endpoints: ['127.0.0.1:1'], timeoutMs: -1 })).to.throw(RangeError);
    });
  });
});

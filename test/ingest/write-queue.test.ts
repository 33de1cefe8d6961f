import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { WriteQueue } from '../../src/ingest/write-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ingest: write queue', () => {
  it('runs at most maxConcurrent writes, queues maxWaiting more, refuses the rest as overloaded', async () => {
    const q = new WriteQueue({ maxConcurrent: 2, maxWaiting: 1, maxWaitMs: 5000, retryAfterSeconds: 1 });
    const gate = deferred();
    let running = 0;
    let peak = 0;
    const write = async (): Promise<number> => {
      running++;
      peak = Math.max(peak, running);
      await gate.promise;
      running--;
      return 1;
    };
    const accepted = [q.run(write), q.run(write), q.run(write)];
    await new Promise((r) => setImmediate(r));
    expect(q.inFlight).to.equal(2);
    expect(q.queued).to.equal(1);
    let refused: unknown;
    await q.run(write).catch((err: unknown) => (refused = err));
    expect(refused).to.be.instanceOf(MetricstorError);
    expect((refused as MetricstorError).type).to.equal('overloaded');
    gate.resolve();
    expect(await Promise.all(accepted)).to.deep.equal([1, 1, 1]);
    expect(peak).to.equal(2);
    expect(q.inFlight).to.equal(0);
  });

  it('refuses a write that waited longer than maxWaitMs, and frees its slot on errors', async () => {
    const q = new WriteQueue({ maxConcurrent: 1, maxWaiting: 5, maxWaitMs: 30, retryAfterSeconds: 2 });
    const gate = deferred();
    const first = q.run(() => gate.promise);
    const waited = await q.run(async () => 'never').catch((err: MetricstorError) => err.type);
    expect(waited).to.equal('overloaded');
    gate.resolve();
    await first;
    await q.run(() => Promise.reject(new Error('boom'))).catch(() => undefined);
    expect(await q.run(async () => 'ok')).to.equal('ok');
    expect(q.inFlight).to.equal(0);
  });
});

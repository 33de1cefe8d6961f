import { expect } from 'chai';
import { QueryGate } from '../../src/api/query-gate.js';
import { MetricstorError } from '../../src/errors.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('QueryGate', () => {
  it('runs at most maxConcurrency at once, lets maxQueue wait and refuses the rest as unavailable', async () => {
    const gate = new QueryGate({ maxConcurrency: 2, maxQueue: 1, maxWaitMs: 5_000 });
    const release = deferred();
    let running = 0;
    let peak = 0;
    const query = async (): Promise<string> => {
      running++;
      peak = Math.max(peak, running);
      await release.promise;
      running--;
      return 'ok';
    };
    const results = [1, 2, 3, 4, 5].map(() => gate.run(query).then((v) => v, (err: unknown) => err));
    await new Promise((r) => setImmediate(r));
    expect(gate.inFlight).to.equal(2);
    expect(gate.queued).to.equal(1);
    release.resolve();
    const settled = await Promise.all(results);
    expect(settled.slice(0, 3)).to.deep.equal(['ok', 'ok', 'ok']);
    for (const err of settled.slice(3)) {
      expect(err).to.be.instanceOf(MetricstorError);
      expect((err as MetricstorError).type).to.equal('unavailable');
    }
    expect(peak).to.equal(2);
    expect(gate.inFlight).to.equal(0);
  });

  it('refuses a query that waited longer than maxWaitMs and one whose client left, freeing their places', async () => {
    const gate = new QueryGate({ maxConcurrency: 1, maxQueue: 2, maxWaitMs: 50 });
    const release = deferred();
    const holder = gate.run(() => release.promise);
    const timedOut = gate.run(async () => 'late').catch((err: MetricstorError) => err.type);
    const controller = new AbortController();
    const abandoned = gate.run(async () => 'gone', controller.signal).catch((err: unknown) => (err instanceof MetricstorError ? err.type : 'other'));
    controller.abort(new MetricstorError('canceled', 'client left'));
    expect(await abandoned).to.equal('canceled');
    expect(await timedOut).to.equal('unavailable');
    expect(gate.queued).to.equal(0);
    release.resolve();
    await holder;
    expect(await gate.run(async () => 'next')).to.equal('next');
    expect(gate.inFlight).to.equal(0);
  });
});

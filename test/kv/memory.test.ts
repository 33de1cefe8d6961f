import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { MemoryKv } from '../../src/kv/memory.js';
import { kvContract } from './kv.contract.js';

kvContract('memory', async () => new MemoryKv());

describe('MemoryKv', () => {
  it('fails every call with unavailable while set unavailable, and recovers', async () => {
    const kv = new MemoryKv();
    const key = Uint8Array.of(1);
    await kv.batch([{ type: 'put', key, value: Uint8Array.of(2) }]);
    kv.setUnavailable(true);
    const calls: (() => Promise<unknown>)[] = [
      () => kv.get(key),
      () => kv.getMany([key]),
      () => kv.batch([{ type: 'del', key }]),
      () => kv.scan({ start: key, end: new Uint8Array(0) }),
      () => kv.compareAndSwap(key, null, Uint8Array.of(3)),
    ];
    for (const call of calls) {
      const err: unknown = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(MetricstorError);
      expect((err as MetricstorError).type).to.equal('unavailable');
    }
    kv.setUnavailable(false);
    expect(Array.from((await kv.get(key))!)).to.deep.equal([2]);
    expect(kv.size).to.equal(1);
  });
});

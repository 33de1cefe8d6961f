import { expect } from 'chai';
import { InstrumentedKv, type KvOperation } from '../../src/kv/instrumented.js';
import type { KvStore } from '../../src/kv/kv.js';
import { MemoryKv } from '../../src/kv/memory.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('InstrumentedKv', () => {
  it('passes calls through and reports each with its operation and duration', async () => {
    const calls: [KvOperation, number, boolean][] = [];
    const kv = new InstrumentedKv(new MemoryKv(), { kvCall: (op, seconds, failed) => calls.push([op, seconds, failed]) });
    await kv.batch([{ type: 'put', key: bytes('a'), value: bytes('1') }]);
    expect(await kv.get(bytes('a'))).to.deep.equal(bytes('1'));
    expect(await kv.getMany([bytes('a'), bytes('b')])).to.deep.equal([bytes('1'), null]);
    expect((await kv.scan({ start: bytes('a'), end: bytes('z') })).entries).to.have.length(1);
    expect(await kv.compareAndSwap(bytes('a'), bytes('2'), bytes('3'))).to.equal(false);
    await kv.close();
    expect(calls.map((c) => c[0])).to.deep.equal(['batch', 'get', 'getMany', 'scan', 'compareAndSwap']);
    for (const [, seconds, failed] of calls) {
      expect(seconds).to.be.at.least(0).and.below(5);
      expect(failed).to.equal(false);
    }
  });

  it('reports failures and rethrows the original error', async () => {
    const boom = new Error('disk full');
    const failing: KvStore = Object.assign(new MemoryKv(), { batch: () => Promise.reject(boom) });
    const calls: [KvOperation, boolean][] = [];
    const kv = new InstrumentedKv(failing, { kvCall: (op, _s, failed) => calls.push([op, failed]) });
    let caught: unknown;
    await kv.batch([]).catch((e: unknown) => (caught = e));
    expect(caught).to.equal(boom);
    expect(calls).to.deep.equal([['batch', true]]);
  });
});

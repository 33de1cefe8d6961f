import { rm } from 'node:fs/promises';
import { expect } from 'chai';
import { startDevServer, type DevServer } from '@metricstor/flaredb-client';
import { MetricstorError } from '../../src/errors.js';
import { FlareDbKv } from '../../src/kv/flaredb.js';
import type { KvStore } from '../../src/kv/kv.js';
import { Storage, type HeadFlush } from '../../src/storage/index.js';
import { ManualClock, pairs, series } from '../storage/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { kvContract } from './kv.contract.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

let strongServer: DevServer;
let eventualServer: DevServer;
let namespaces = 0;

before(async () => {
  strongServer = await startDevServer({ defaultMode: 'strong', sync: false });
  const leaseNamespaces = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`lease${i}`, 'strong' as const]));
  eventualServer = await startDevServer({ defaultMode: 'eventual', namespaces: leaseNamespaces, sync: false });
});

after(async () => {
  await strongServer?.close();
  await eventualServer?.close();
});

/** Each store gets a namespace of its own, so it starts empty. */
function openStore(consistency: 'strong' | 'eventual'): KvStore {
  const server = consistency === 'strong' ? strongServer : eventualServer;
  return FlareDbKv.open({ endpoints: [server.address], namespace: `ns${namespaces++}`, consistency, timeoutMs: 10_000 });
}

const noCleanup = async (): Promise<void> => {};
kvContract('flaredb strong (KvCas)', async () => openStore('strong'), noCleanup, 'absent');
kvContract('flaredb eventual (KvRaw)', async () => openStore('eventual'), noCleanup, 'absent');
let leaseNamespaces = 0;
kvContract('flaredb eventual with keys under 02 and ff in a strong namespace', async () =>
  FlareDbKv.open({
    endpoints: [eventualServer.address],
    namespace: `ns${namespaces++}`,
    consistency: 'eventual',
    strongPrefixes: [Uint8Array.of(2), Uint8Array.of(0xff)],
    strongNamespace: `lease${leaseNamespaces++}`,
    timeoutMs: 10_000,
  }),
  noCleanup,
  'absent',
);

describe('FlareDbKv', () => {
  const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

  it('puts in strong mode with one CAS per key when it knows the version, two when another writer moved it', async () => {
    const ns = `rpc${namespaces++}`;
    const mine = FlareDbKv.open({ endpoints: [strongServer.address], namespace: ns, consistency: 'strong' });
    const other = FlareDbKv.open({ endpoints: [strongServer.address], namespace: ns, consistency: 'strong' });
    try {
      await mine.batch([{ type: 'put', key: b(1), value: b(1) }, { type: 'put', key: b(2), value: b(2) }]);
      expect(mine.stats().attempts).to.equal(2);
      await mine.batch([{ type: 'put', key: b(1), value: b(3) }]);
      expect(mine.stats().attempts).to.equal(3);
      await other.batch([{ type: 'put', key: b(1), value: b(4) }]);
      expect(other.stats().attempts).to.equal(2);
      await mine.batch([{ type: 'put', key: b(1), value: b(5) }]);
      expect(mine.stats().attempts).to.equal(5);
      expect(Array.from((await other.get(b(1)))!)).to.deep.equal([5]);
    } finally {
      await mine.close();
      await other.close();
    }
  });

  it('creates an absent key in strong mode with one CAS and no read, and refuses a second create', async () => {
    const ns = `rpc${namespaces++}`;
    const first = FlareDbKv.open({ endpoints: [strongServer.address], namespace: ns, consistency: 'strong' });
    const second = FlareDbKv.open({ endpoints: [strongServer.address], namespace: ns, consistency: 'strong' });
    try {
      expect(await first.compareAndSwap(b(7), null, b(1))).to.equal(true);
      expect(first.stats().attempts).to.equal(1);
      expect(await second.compareAndSwap(b(7), null, b(2))).to.equal(false);
      expect(second.stats().attempts).to.equal(1);
      expect(Array.from((await second.get(b(7)))!)).to.deep.equal([1]);
      // The failed create taught `second` the version, so its next put is one CAS.
      await second.batch([{ type: 'put', key: b(7), value: b(3) }]);
      expect(second.stats().attempts).to.equal(3);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps keys under strong prefixes in the strong namespace, where CAS is atomic across stores', async () => {
    const options = {
      endpoints: [eventualServer.address],
      namespace: `split${namespaces++}`,
      consistency: 'eventual' as const,
      strongPrefixes: [Uint8Array.of(0x4c)],
      strongNamespace: `lease${leaseNamespaces++}`,
    };
    const stores = [FlareDbKv.open(options), FlareDbKv.open(options), FlareDbKv.open(options)];
    const lease = Uint8Array.of(0x4c, 1);
    try {
      const wins = await Promise.all(stores.flatMap((kv, i) => [kv.compareAndSwap(lease, null, b(i)), kv.compareAndSwap(lease, null, b(i + 10))]));
      expect(wins.filter((w) => w)).to.have.length(1);
      await stores[0]!.batch([{ type: 'put', key: b(0x4c, 2), value: b(7) }, { type: 'put', key: b(0x53, 1), value: b(8) }]);
      // The lease keys went to the strong namespace through KvCas, the rest to the eventual one.
      const probe = FlareDbKv.open({ endpoints: [eventualServer.address], namespace: options.strongNamespace, consistency: 'strong' });
      const raw = FlareDbKv.open({ endpoints: [eventualServer.address], namespace: options.namespace, consistency: 'eventual' });
      try {
        expect((await probe.scan({ start: new Uint8Array(0), end: new Uint8Array(0) })).entries.map((e) => Array.from(e.key))).to.deep.equal([
          [0x4c, 1],
          [0x4c, 2],
        ]);
        expect((await raw.scan({ start: new Uint8Array(0), end: new Uint8Array(0) })).entries.map((e) => Array.from(e.key))).to.deep.equal([
          [0x53, 1],
        ]);
      } finally {
        await probe.close();
        await raw.close();
      }
      const all = await stores[1]!.scan({ start: new Uint8Array(0), end: new Uint8Array(0), limit: 2 });
      expect(all.entries.map((e) => Array.from(e.key))).to.deep.equal([[0x4c, 1], [0x4c, 2]]);
      expect(Array.from(all.next!)).to.deep.equal([0x53, 1]);
    } finally {
      for (const kv of stores) await kv.close();
    }
  });

  it('sends only the last operation per key of a batch', async () => {
    const kv = FlareDbKv.open({ endpoints: [eventualServer.address], namespace: `last${namespaces++}`, consistency: 'eventual' });
    try {
      await kv.batch([
        { type: 'put', key: b(1), value: b(1) },
        { type: 'del', key: b(1) },
        { type: 'put', key: b(2), value: b(2) },
        { type: 'put', key: b(1), value: b(9) },
      ]);
      expect(kv.stats().calls).to.equal(2);
      expect(Array.from((await kv.get(b(1)))!)).to.deep.equal([9]);
    } finally {
      await kv.close();
    }
  });

  it('fails as internal when the namespace mode does not match the consistency', async () => {
    const kv = FlareDbKv.open({ endpoints: [eventualServer.address], namespace: `mismatch${namespaces++}`, consistency: 'strong' });
    try {
      const err: unknown = await kv.get(b(1)).then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(MetricstorError);
      expect((err as MetricstorError).type).to.equal('internal');
      expect((err as MetricstorError).message).to.include('is eventual');
    } finally {
      await kv.close();
    }
  });

  it('answers unavailable within the deadline while the KV is down, and recovers when it returns', async function () {
    this.timeout(20_000);
    const dir = await tempDir('flaredb-kv');
    let server = await startDevServer({ dataDir: dir, defaultMode: 'strong', sync: false });
    const address = server.address;
    const kv = FlareDbKv.open({ endpoints: [address], consistency: 'strong', timeoutMs: 600 });
    try {
      await kv.batch([{ type: 'put', key: b(1), value: b(1) }]);
      await server.close();
      for (const call of [() => kv.batch([{ type: 'put', key: b(2), value: b(2) }]), () => kv.get(b(1))]) {
        const started = Date.now();
        const err: unknown = await call().then(() => null, (e: unknown) => e);
        expect(Date.now() - started).to.be.below(1500);
        expect(err).to.be.instanceOf(MetricstorError);
        expect((err as MetricstorError).type).to.equal('unavailable');
      }
      server = await startDevServer({ address, dataDir: dir, defaultMode: 'strong', sync: false });
      let value: Uint8Array | null = null;
      for (let tries = 0; tries < 100 && value === null; tries++) {
        value = await kv.get(b(1)).catch(() => null);
        if (value === null) await new Promise((r) => setTimeout(r, 50));
      }
      expect(Array.from(value!)).to.deep.equal([1]);
      await kv.batch([{ type: 'put', key: b(2), value: b(2) }]);
      expect(Array.from((await kv.get(b(2)))!)).to.deep.equal([2]);
    } finally {
      await kv.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Storage on FlareDbKv', () => {
  const T0 = 1_700_000_000_000;
  const policies: [string, HeadFlush][] = [
    ['write-through', 'write-through'],
    ['buffered', { intervalMs: 3_600_000 }],
  ];
  for (const consistency of ['strong', 'eventual'] as const) {
    for (const [policyName, headFlush] of policies) {
      it(`reads back through a second gateway what the first wrote (${consistency}, ${policyName})`, async () => {
        const server = consistency === 'strong' ? strongServer : eventualServer;
        const namespace = `storage${namespaces++}`;
        const open = (): FlareDbKv => FlareDbKv.open({ endpoints: [server.address], namespace, consistency, timeoutMs: 10_000 });
        const kv1 = open();
        const writer = await Storage.open(kv1, { headFlush, clock: new ManualClock(T0 + 3_600_000), writerId: 1n });
        const expected = new Map<string, [number, number][]>();
        for (let round = 0; round < 4; round++) {
          const batch = Array.from({ length: 25 }, (_, i) => {
            const samples: [number, number][] = [[T0 + round * 15_000, round * 100 + i]];
            const key = `h${i}`;
            expected.set(key, [...(expected.get(key) ?? []), ...samples]);
            return series({ __name__: 'node_load1', instance: key }, samples);
          });
          await writer.append(appendBatchOf(batch));
        }
        await writer.close();
        await kv1.close();

        const kv2 = open();
        const reader = await Storage.open(kv2, { headFlush, clock: new ManualClock(T0 + 3_600_000), writerId: 2n });
        try {
          const got = await reader.select({
            matchers: [{ type: '=', name: '__name__', value: 'node_load1' }],
            startMs: T0,
            endMs: T0 + 3_600_000,
          });
          expect(got).to.have.length(25);
          for (const s of got) {
            const instance = s.labels.find((l) => l.name === 'instance')!.value;
            expect(pairs(s)).to.deep.equal(expected.get(instance));
          }
        } finally {
          await reader.close();
          await kv2.close();
        }
      });
    }
  }
});

import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { startDevServer, type DevServer } from '@metricstor/flaredb-client';
import { EmbeddedKv } from '../../src/kv/embedded.js';
import { FlareDbKv } from '../../src/kv/flaredb.js';
import type { KvStore } from '../../src/kv/kv.js';
import { MemoryKv } from '../../src/kv/memory.js';
import { tempDir } from '../helpers/tmp.js';
import { Storage } from '../../src/storage/index.js';
import type { HeadFlush } from '../../src/storage/index.js';
import { ManualClock, pairs, series } from './helpers.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const policies: [string, HeadFlush][] = [
  ['write-through', 'write-through'],
  ['buffered', { intervalMs: 3_600_000 }],
];

/** FlareDB dev servers shared by the flaredb rows below; each test gets a namespace of its own. */
const flaredb: { strong?: DevServer; eventual?: DevServer; namespaces: number } = { namespaces: 0 };

async function openBackend(backend: Backend, dir: string): Promise<KvStore> {
  switch (backend) {
    case 'memory':
      return new MemoryKv();
    case 'embedded':
      return EmbeddedKv.open(dir, { durability: 'commit' });
    case 'flaredb-strong':
    case 'flaredb-eventual': {
      const consistency = backend === 'flaredb-strong' ? 'strong' : 'eventual';
      const server = flaredb[consistency]!;
      return FlareDbKv.open({ endpoints: [server.address], namespace: `roundtrip${flaredb.namespaces++}`, consistency, timeoutMs: 10_000 });
    }
  }
}

type Backend = 'memory' | 'embedded' | 'flaredb-strong' | 'flaredb-eventual';

describe('storage round trips on every KV backend', () => {
  before(async () => {
    flaredb.strong = await startDevServer({ defaultMode: 'strong', sync: false });
    flaredb.eventual = await startDevServer({ defaultMode: 'eventual', sync: false });
  });
  after(async () => {
    await flaredb.strong?.close();
    await flaredb.eventual?.close();
  });

  for (const backend of ['memory', 'embedded', 'flaredb-strong', 'flaredb-eventual'] as const) {
    for (const [policyName, headFlush] of policies) {
    describe(`storage round trips (${policyName}, ${backend} KV)`, () => {
      let kv: KvStore;
      let clock: ManualClock;
      let storage: Storage;
      let dir = '';

      beforeEach(async () => {
        dir = backend === 'embedded' ? await tempDir('storage-roundtrip') : '';
        kv = await openBackend(backend, dir);
        clock = new ManualClock(T0);
        storage = await Storage.open(kv, { headFlush, clock, writerId: 1n });
      });
      afterEach(async () => {
        await storage.close();
        if (backend !== 'memory') await kv.close();
        if (dir) await rm(dir, { recursive: true, force: true });
      });

      it('reads back what it wrote, at once', async () => {
        const samples: [number, number][] = [];
        for (let i = 0; i < 300; i++) samples.push([T0 + i * 15_000, i * 1.5]);
        await storage.append(appendBatchOf([series({ __name__: 'up', job: 'a' }, samples), series({ __name__: 'up', job: 'b' }, [[T0, 7]])]));
        const got = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'up' }], startMs: T0, endMs: T0 + 10_000_000 });
        expect(got.map((s) => s.labels)).to.deep.equal([
          [{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }],
          [{ name: '__name__', value: 'up' }, { name: 'job', value: 'b' }],
        ]);
        expect(pairs(got[0]!)).to.deep.equal(samples);
        expect(pairs(got[1]!)).to.deep.equal([[T0, 7]]);
      });

      it('appends series that share two columns, each its range of them, and refuses a range outside them', async () => {
        const timestamps = Float64Array.of(T0, T0 + 1000, T0 + 2000, T0 + 86_400_000);
        const values = Float64Array.of(1, 2, 3, 4);
        const up = (job: string) => [{ name: '__name__', value: 'up' }, { name: 'job', value: job }];
        await storage.append({
          length: 3,
          labels: [up('a'), up('b'), up('c')],
          timestamps,
          values,
          starts: Int32Array.of(0, 2, 1),
          ends: Int32Array.of(2, 4, 1),
        });
        const got = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'up' }], startMs: T0, endMs: T0 + 86_400_000 });
        expect(got.map((s) => [s.labels[1]!.value, pairs(s)])).to.deep.equal([
          ['a', [[T0, 1], [T0 + 1000, 2]]],
          ['b', [[T0 + 2000, 3], [T0 + 86_400_000, 4]]],
        ]);
        let refused: unknown;
        const outside = { length: 1, labels: [up('d')], timestamps, values, starts: Int32Array.of(3), ends: Int32Array.of(5) };
        await storage.append(outside).catch((err: unknown) => (refused = err));
        expect(String(refused)).to.match(/series samples \[3, 5\) are not within the 4 timestamps and 4 values of the append/);
        expect(() => appendBatchOf([{ labels: up('d'), timestamps, values, start: 3, end: 5 }])).to.throw(/series samples \[3, 5\) are not within its 4 timestamps/);
      });

      it('clips to the requested range and leaves out series without samples in it', async () => {
        await storage.append(appendBatchOf([
          series({ __name__: 'm', k: '1' }, [[T0, 1], [T0 + 1000, 2], [T0 + 2000, 3]]),
          series({ __name__: 'm', k: '2' }, [[T0 + 5000, 9]]),
        ]));
        const got = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'm' }], startMs: T0 + 500, endMs: T0 + 2000 });
        expect(got).to.have.length(1);
        expect(pairs(got[0]!)).to.deep.equal([[T0 + 1000, 2], [T0 + 2000, 3]]);
      });

      it('stores out-of-order, old and duplicate samples and returns each timestamp once', async () => {
        const old = T0 - 40 * 86_400_000;
        await storage.append(appendBatchOf([series({ __name__: 'o' }, [[T0 + 3000, 3], [T0 + 1000, 1], [T0 + 2000, 2]])]));
        await storage.append(appendBatchOf([series({ __name__: 'o' }, [[T0 + 2000, 2], [T0 + 500, 0.5], [old, -1], [T0 + 3000, 3]])]));
        await storage.append(appendBatchOf([series({ __name__: 'o' }, [[T0 + 3000, 3]])]));
        const got = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'o' }], startMs: old, endMs: T0 + 3000 });
        expect(pairs(got[0]!)).to.deep.equal([[old, -1], [T0 + 500, 0.5], [T0 + 1000, 1], [T0 + 2000, 2], [T0 + 3000, 3]]);
      });

      it('keeps a series across window and day edges', async () => {
        const dayStart = Math.ceil(T0 / 86_400_000) * 86_400_000;
        const samples: [number, number][] = [];
        for (let t = dayStart - 3 * 3_600_000; t < dayStart + 3 * 3_600_000; t += 60_000) samples.push([t, t / 1000]);
        await storage.append(appendBatchOf([series({ __name__: 'x' }, samples)]));
        const got = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'x' }], startMs: dayStart - 60_000, endMs: dayStart });
        expect(pairs(got[0]!)).to.deep.equal([[dayStart - 60_000, (dayStart - 60_000) / 1000], [dayStart, dayStart / 1000]]);
        const all = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'x' }], startMs: 0, endMs: dayStart * 2 });
        expect(pairs(all[0]!)).to.deep.equal(samples);
      });

      it('keeps NaN payloads and the staleness marker bit for bit', async () => {
        const values = new Float64Array(3);
        const words = new Uint32Array(values.buffer);
        words[0] = 0x00000002; words[1] = 0x7ff00000; // stale marker (little-endian words)
        words[2] = 0x12345678; words[3] = 0x7ff80000; // quiet NaN with payload
        words[4] = 0; words[5] = 0x80000000; // -0
        await storage.append(appendBatchOf([{ labels: [{ name: '__name__', value: 'n' }], timestamps: [T0, T0 + 1, T0 + 2], values }]));
        const got = await storage.select({ matchers: [{ type: '=', name: '__name__', value: 'n' }], startMs: T0, endMs: T0 + 2 });
        expect([...new Uint32Array(got[0]!.values.buffer, got[0]!.values.byteOffset, 6)]).to.deep.equal([...words]);
      });

      it('is visible to a second storage on the same KV once durable', async () => {
        await storage.append(appendBatchOf([series({ __name__: 'shared' }, [[T0, 1]])]));
        if (headFlush !== 'write-through') await storage.flush();
        const other = await Storage.open(kv, { clock, writerId: 2n });
        const got = await other.select({ matchers: [{ type: '=', name: '__name__', value: 'shared' }], startMs: T0, endMs: T0 });
        expect(pairs(got[0]!)).to.deep.equal([[T0, 1]]);
        await other.close();
      });
    });
  }
  }
});

import { expect } from 'chai';
import { DecodePool } from '../../src/ingest/decode-workers/pool.js';
import { importHandler, remoteWriteHandler, type IngestDeps } from '../../src/ingest/http.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { WriteQueue } from '../../src/ingest/write-queue.js';
import { MemoryKv } from '../../src/kv/memory.js';
import { Storage } from '../../src/storage/index.js';
import type { SeriesData } from '../../src/storage/types.js';
import { isStaleAt, STALE_NAN_HI, STALE_NAN_LO } from '../../src/model/value.js';
import { encodeV1, encodeV2, patchDouble, snappy, startApp, v1Series } from './fixtures.js';

const HEADERS = { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' };
const ALL = { matchers: [{ type: '=~' as const, name: '__name__', value: '.+' }], startMs: -1e12, endMs: 1e13 };

function snapshot(series: SeriesData[]): { labels: string; timestamps: number[]; bits: string[] }[] {
  return series
    .map((s) => ({
      labels: JSON.stringify(s.labels),
      timestamps: Array.from(s.timestamps),
      bits: Array.from({ length: s.values.length }, (_, i) => Buffer.from(s.values.buffer, s.values.byteOffset + i * 8, 8).toString('hex')),
    }))
    .sort((a, b) => (a.labels < b.labels ? -1 : 1));
}

describe('ingest: through the real storage over MemoryKv', () => {
  let kv: MemoryKv;
  let storage: Storage;
  let app: { url: string; close: () => Promise<void> };
  let decodePool: DecodePool;

  before(() => {
    decodePool = new DecodePool(2);
  });
  after(() => decodePool.close());

  beforeEach(async () => {
    kv = new MemoryKv();
    storage = await Storage.open(kv, { orphanCheckMs: 0 });
    const deps: IngestDeps = { storage, limits: ingestLimits(), queue: new WriteQueue(), nowMs: () => 1_700_000_000_000, decodePool };
    app = await startApp({ '/api/v1/write': remoteWriteHandler(deps), '/api/v1/import/prometheus': importHandler(deps) });
  });
  afterEach(async () => {
    await app.close();
    await storage.close();
  });

  const post = (body: Uint8Array, headers: Record<string, string> = HEADERS, path = '/api/v1/write') =>
    fetch(app.url + path, { method: 'POST', body, headers });

  it('keeps the staleness marker bit-exact from the wire to a select', async () => {
    let raw = encodeV1([
      v1Series({ labels: { __name__: 'm', job: 'a' }, samples: [{ value: 1, timestamp: 1000 }, { value: 4321.5, timestamp: 2000 }] }),
    ]);
    raw = patchDouble(raw, 4321.5, STALE_NAN_HI, STALE_NAN_LO);
    expect((await post(snappy(raw))).status).to.equal(204);
    const [s] = await storage.select(ALL);
    expect(Array.from(s!.timestamps)).to.deep.equal([1000, 2000]);
    expect(s!.values[0]).to.equal(1);
    expect(isStaleAt(s!.values, 1)).to.equal(true);
  });

  it('stores every sample of many concurrent requests whose decode buffers the workers recycle', async () => {
    const requests = 48;
    const bodies = Array.from({ length: requests }, (_, r) =>
      encodeV1(
        Array.from({ length: 10 + ((r * 29) % 150) }, (_, k) =>
          v1Series({ labels: { __name__: 'recycled', req: String(r), k: String(k) }, samples: [{ value: r * 1000 + k + 0.25, timestamp: 1000 + r }] }),
        ),
      ),
    );
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < requests) {
        const res = await post(snappy(bodies[next++]!));
        expect(res.status).to.equal(204);
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
    const stored = await storage.select({ ...ALL, matchers: [{ type: '=', name: '__name__', value: 'recycled' }] });
    const expected = bodies.reduce((n, _, r) => n + 10 + ((r * 29) % 150), 0);
    expect(stored).to.have.length(expected);
    for (const s of stored) {
      const r = Number(s.labels.find((l) => l.name === 'req')!.value);
      const k = Number(s.labels.find((l) => l.name === 'k')!.value);
      expect(Array.from(s.timestamps)).to.deep.equal([1000 + r]);
      expect(Array.from(s.values)).to.deep.equal([r * 1000 + k + 0.25]);
    }
  });

  it('is idempotent: the same request twice gives the same select results', async () => {
    const body = snappy(
      encodeV2([
        { labels: { __name__: 'a', x: '1' }, samples: [{ value: 1, timestamp: 10_000 }, { value: NaN, timestamp: 20_000 }] },
        { labels: { __name__: 'b' }, samples: [{ value: -Infinity, timestamp: 10_000 }] },
      ]),
    );
    const headers = { ...HEADERS, 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' };
    expect((await post(body, headers)).status).to.equal(204);
    const once = snapshot(await storage.select(ALL));
    expect((await post(body, headers)).status).to.equal(204);
    expect(snapshot(await storage.select(ALL))).to.deep.equal(once);
    expect(once).to.have.length(2);
  });

  it('accepts out-of-order and very old samples', async () => {
    const now = 1_700_000_000_000;
    const send = (ts: number, v: number) => post(snappy(encodeV1([v1Series({ labels: { __name__: 'ooo' }, samples: [{ value: v, timestamp: ts }] })])));
    expect((await send(now, 3)).status).to.equal(204);
    expect((await send(now - 60_000, 2)).status).to.equal(204);
    expect((await send(now - 400 * 86_400_000, 1)).status).to.equal(204);
    expect((await send(-5_000, 0)).status).to.equal(204);
    const [s] = await storage.select(ALL);
    expect(Array.from(s!.timestamps)).to.deep.equal([-5_000, now - 400 * 86_400_000, now - 60_000, now]);
    expect(Array.from(s!.values)).to.deep.equal([0, 1, 2, 3]);
  });

  it('answers 503 while the KV is unavailable and stores the retried request afterwards', async () => {
    const body = snappy(encodeV1([v1Series({ labels: { __name__: 'r' }, samples: [{ value: 7, timestamp: 5000 }] })]));
    kv.setUnavailable(true);
    const res = await post(body);
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.equal('1');
    kv.setUnavailable(false);
    expect((await post(body)).status).to.equal(204);
    const [s] = await storage.select(ALL);
    expect(Array.from(s!.values)).to.deep.equal([7]);
  });

  it('stores imported samples and their metadata', async () => {
    const text = '# HELP jobs Jobs waiting.\n# TYPE jobs gauge\njobs{q="a"} 5\njobs{q="a"} 6 1700000001000\n';
    expect((await post(Buffer.from(text), {}, '/api/v1/import/prometheus?extra_label=env=test')).status).to.equal(204);
    const [s] = await storage.select(ALL);
    expect(s!.labels).to.deep.equal([
      { name: '__name__', value: 'jobs' },
      { name: 'env', value: 'test' },
      { name: 'q', value: 'a' },
    ]);
    expect(Array.from(s!.timestamps)).to.deep.equal([1_700_000_000_000, 1_700_000_001_000]);
    const meta = await storage.metadata('jobs');
    expect(meta.get('jobs')).to.deep.equal([{ metricFamilyName: 'jobs', type: 'gauge', help: 'Jobs waiting.', unit: '' }]);
  });
});

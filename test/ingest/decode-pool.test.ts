import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import fc from 'fast-check';
import { MetricstorError } from '../../src/errors.js';
import { MetricMetadata_MetricType } from '../../src/generated/prompb/prometheus/types.js';
import { decodeRemoteWriteBody, type DecodedBody } from '../../src/ingest/decode-workers/decode-body.js';
import { DECODE_WORKER_YOUNG_GENERATION_MB, DecodePool, spawnDecodeWorker } from '../../src/ingest/decode-workers/pool.js';
import type { RemoteWriteVersion } from '../../src/ingest/decode-workers/protocol.js';
import { remoteWriteHandler } from '../../src/ingest/http.js';
import { LabelCache } from '../../src/ingest/label-cache.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import type { DecodedWrite } from '../../src/ingest/types.js';
import { validateWrite } from '../../src/ingest/validate.js';
import { WriteQueue } from '../../src/ingest/write-queue.js';
import { STALE_NAN_HI, STALE_NAN_LO } from '../../src/model/value.js';
import { encodeV1, encodeV2, ownSamples, patchDouble, RecordingStorage, seriesOf, snappy, startApp, v1Series } from './fixtures.js';

const MAX_DECODED = 1024 * 1024;
const limits = ingestLimits();

/** Everything a decode and the validation after it give, values as their bytes, or the error's type and message. */
async function outcome(version: RemoteWriteVersion, compressed: Uint8Array, cache: LabelCache | undefined, pool: DecodePool | undefined): Promise<string> {
  let decoded: DecodedBody;
  try {
    decoded = await decodeRemoteWriteBody(version, Uint8Array.from(compressed), MAX_DECODED, cache, pool);
  } catch (err) {
    return errorText(err);
  }
  const decodedText = JSON.stringify(summary(decoded.write));
  try {
    const appends = seriesOf(validateWrite(decoded.write, limits, cache));
    return `${decodedText} ${JSON.stringify(appends.map(ownSamples).map((a) => [a.labels, Array.from(a.timestamps), hex(a.values)]))}`;
  } catch (err) {
    return `${decodedText} ${errorText(err)}`;
  } finally {
    decoded.release();
  }
}

function errorText(err: unknown): string {
  if (err instanceof MetricstorError) return `${err.type}: ${err.message}`;
  throw err;
}

function summary(d: DecodedWrite): unknown {
  return {
    series: d.series.map((s) => [s.labels, s.first, s.count]),
    timestamps: Array.from(d.samples.timestamps.subarray(0, d.samples.length)),
    values: hex(d.samples.values.subarray(0, d.samples.length)),
    metadata: d.metadata,
    exemplars: d.exemplarCount,
  };
}

function hex(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');
}

/** A valid 1.0 request of `series` series with `samples` samples each; `seed` makes its labels and values its own. */
function manySeries(seed: number, series: number, samples: number): Uint8Array {
  return encodeV1(
    Array.from({ length: series }, (_, k) =>
      v1Series({
        labels: { __name__: `metric_${k % 7}`, instance: `host-${seed}-${k}`, job: 'node' },
        samples: Array.from({ length: samples }, (_, j) => ({ value: seed * 1000 + k + j / 8, timestamp: 1_700_000_000_000 + seed * 60_000 + j * 15_000 })),
      }),
    ),
  );
}

/** A worker that exits as soon as it is sent a job. */
function crashingWorker(): Worker {
  return new Worker(`require('node:worker_threads').parentPort.on('message', () => process.exit(3));`, { eval: true });
}

/** A worker that takes jobs and never answers. */
function silentWorker(): Worker {
  return new Worker(`require('node:worker_threads').parentPort.on('message', () => {});`, { eval: true });
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(condition()).to.equal(true);
}

const V1_BODY = patchDouble(
  encodeV1(
    [
      v1Series({ labels: { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle' }, samples: [{ value: 12.5, timestamp: 1700000000000 }] }),
      v1Series({ labels: { job: 'node', __name__: 'up', empty: '' }, samples: [{ value: 1, timestamp: -15000 }, { value: 8.5, timestamp: 0 }] }),
      v1Series({ labels: { __name__: 'up', job: 'node' }, samples: [{ value: Number.NEGATIVE_INFINITY, timestamp: 5 }] }),
      v1Series({ labels: { __name__: 'ünïcödé_bad', job: 'x' }, samples: [] }),
    ],
    [{ type: MetricMetadata_MetricType.GAUGE, metricFamilyName: 'up', help: 'Up.', unit: '' }],
  ),
  8.5,
  STALE_NAN_HI,
  STALE_NAN_LO,
);
const V1_VALID = encodeV1([
  v1Series({ labels: { __name__: 'up', job: 'node', instance: 'h:9100' }, samples: [{ value: 1, timestamp: 1000 }, { value: 0, timestamp: 2000 }] }),
  v1Series({ labels: { __name__: 'load1', instance: 'h:9100' }, samples: [{ value: 0.25, timestamp: 1000 }] }),
]);
const V2_BODY = encodeV2([
  { labels: { __name__: 'up', job: 'node' }, samples: [{ value: 1, timestamp: 1000 }], metadata: { type: 2, help: 'Up.', unit: '' }, exemplars: 1 },
]);

describe('ingest: decode workers', function () {
  this.timeout(60_000);
  let pool: DecodePool;

  before(() => {
    pool = new DecodePool(2);
  });
  after(() => pool.close());

  it('run with a young generation of DECODE_WORKER_YOUNG_GENERATION_MB, not V8\'s default of up to 48 MiB', async () => {
    const worker = spawnDecodeWorker();
    try {
      await new Promise<void>((resolve, reject) => worker.once('online', resolve).once('error', reject));
      expect(worker.resourceLimits?.maxYoungGenerationSizeMb).to.equal(DECODE_WORKER_YOUNG_GENERATION_MB);
    } finally {
      await worker.terminate();
    }
  });

  it('decode 1.0 and 2.0 bodies as this thread does, labels and sample bytes alike, with and without a warm label cache', async () => {
    for (const [version, body] of [
      ['1.0', V1_BODY],
      ['1.0', V1_VALID],
      ['2.0', V2_BODY],
    ] as const) {
      const mainCache = new LabelCache(16);
      const poolCache = new LabelCache(16);
      // Round 0 fills the label cache, round 1 the worker's id table, round 2 reads from it.
      for (let round = 0; round < 3; round++) {
        const expected = await outcome(version, snappy(body), mainCache, undefined);
        expect(await outcome(version, snappy(body), poolCache, pool), `${version} round ${round}`).to.equal(expected);
        expect(await outcome(version, snappy(body), undefined, pool)).to.equal(await outcome(version, snappy(body), undefined, undefined));
      }
    }
    expect(await outcome('1.0', snappy(V1_VALID), undefined, pool)).to.match(/^\{"series".*\[\[\{"name":"__name__","value":"load1"\}/);
    expect(await outcome('1.0', snappy(V1_BODY), undefined, pool)).to.match(/^\{"series".* bad_data: .*invalid metric name/);
  });

  it('give the same result or the same error as this thread for mutated bodies', async () => {
    const mainCache = new LabelCache(16);
    const poolCache = new LabelCache(16);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(V1_BODY, V1_VALID),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
        async (body, edits) => {
          const bytes = Array.from(body);
          for (const [at, b, op] of edits) {
            const i = at % bytes.length;
            if (op === 'set') bytes[i] = b;
            else if (op === 'insert') bytes.splice(i, 0, b);
            else if (bytes.length > 1) bytes.splice(i, 1);
          }
          const compressed = snappy(Uint8Array.from(bytes));
          expect(await outcome('1.0', compressed, poolCache, pool)).to.equal(await outcome('1.0', compressed, mainCache, undefined));
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });

  it('keep a reply intact while many later requests reuse the worker buffers, and move them back only on release', async () => {
    const single = new DecodePool(1);
    try {
      const held = await decodeRemoteWriteBody('1.0', snappy(manySeries(0, 300, 3)), MAX_DECODED, undefined, single);
      const expected = JSON.stringify(summary((await decodeRemoteWriteBody('1.0', snappy(manySeries(0, 300, 3)), MAX_DECODED, undefined, undefined)).write));
      // Sizes vary so that every size class of the pool is taken and given back many times.
      for (let i = 1; i <= 60; i++) {
        const other = await decodeRemoteWriteBody('1.0', snappy(manySeries(i, 20 + ((i * 37) % 400), 1 + (i % 4))), MAX_DECODED, undefined, single);
        expect(other.write.samples.length).to.be.greaterThan(0);
        other.release();
        expect(other.write.samples.timestamps.length, 'a released reply no longer owns its buffers').to.equal(0);
      }
      expect(JSON.stringify(summary(held.write))).to.equal(expected);
      held.release();
      held.release();
    } finally {
      await single.close();
    }
  });

  it('keep what a worker allocates bounded once replies are released', async () => {
    const single = new DecodePool(1);
    const allocated: number[] = [];
    try {
      for (let i = 0; i < 80; i++) {
        const answer = await single.decode('1.0', snappy(manySeries(i, 50 + ((i * 53) % 300), 1 + (i % 3))), MAX_DECODED);
        expect(answer.reply.kind).to.equal('scanned');
        if (answer.reply.kind === 'scanned') allocated.push(answer.reply.allocatedBytes);
        answer.release();
      }
      // After a warm-up every request's buffers come from the pool: no new allocation at all.
      expect(allocated[79]).to.equal(allocated[20]);
      expect(allocated[79]).to.be.below(2 * 1024 * 1024);
    } finally {
      await single.close();
    }
  });

  it('refuse bad snappy with the same error type and message as this thread', async () => {
    const framed = Uint8Array.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59, 0x00]);
    const huge = snappy(new Uint8Array(MAX_DECODED + 1));
    const corrupt = Uint8Array.from([0x0a, 0xff, 0xff, 0xff]);
    for (const body of [framed, huge, corrupt, new Uint8Array(0)]) {
      const expected = await outcome('1.0', body, undefined, undefined);
      expect(expected).to.match(/^(bad_data|too_large): snappy: /);
      expect(await outcome('1.0', body, undefined, pool)).to.equal(expected);
      expect(await outcome('2.0', body, undefined, pool)).to.equal(expected);
    }
  });

  it('fail the jobs of a worker that dies with unavailable, and replace it', async () => {
    let spawned = 0;
    const crashing = new DecodePool(1, () => (++spawned === 1 ? crashingWorker() : spawnDecodeWorker()));
    try {
      const err = await crashing.decode('1.0', snappy(V1_VALID), MAX_DECODED).then(
        () => expect.fail('expected a failure'),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(MetricstorError);
      expect((err as MetricstorError).type).to.equal('unavailable');
      expect((err as MetricstorError).message).to.match(/decode worker exited with code 3/);
      await waitFor(() => crashing.running === 1);
      expect(spawned).to.equal(2);
      expect(await outcome('1.0', snappy(V1_VALID), undefined, crashing)).to.equal(await outcome('1.0', snappy(V1_VALID), undefined, undefined));
    } finally {
      await crashing.close();
    }
  });

  it('answer 503 with Retry-After when the worker dies under a request', async () => {
    const crashing = new DecodePool(1, crashingWorker);
    const storage = new RecordingStorage();
    const app = await startApp({
      '/api/v1/write': remoteWriteHandler({
        storage,
        limits,
        queue: new WriteQueue({ maxConcurrent: 2, maxWaiting: 2, maxWaitMs: 5000, retryAfterSeconds: 2 }),
        decodePool: crashing,
      }),
    });
    try {
      const res = await fetch(`${app.url}/api/v1/write`, { method: 'POST', body: snappy(V1_VALID), headers: { 'Content-Type': 'application/x-protobuf' } });
      expect(res.status).to.equal(503);
      expect(res.headers.get('Retry-After')).to.equal('2');
      expect(await res.text()).to.match(/decode worker exited/);
      expect(storage.appends).to.have.length(0);
    } finally {
      await app.close();
      await crashing.close();
    }
  });

  it('close terminates every worker and fails the jobs in flight with unavailable', async () => {
    const workers: Worker[] = [];
    const exited: number[] = [];
    const silent = new DecodePool(2, () => {
      const w = silentWorker();
      w.on('exit', (code) => exited.push(code));
      workers.push(w);
      return w;
    });
    const inFlight = silent.decode('1.0', snappy(V1_VALID), MAX_DECODED).catch((e: unknown) => e);
    await silent.close();
    const err = await inFlight;
    expect(err).to.be.instanceOf(MetricstorError);
    expect((err as MetricstorError).type).to.equal('unavailable');
    await waitFor(() => exited.length === 2);
    expect(workers).to.have.length(2);
    expect(silent.running).to.equal(0);
    const after = await silent.decode('1.0', snappy(V1_VALID), MAX_DECODED).catch((e: unknown) => e);
    expect((after as MetricstorError).type).to.equal('unavailable');
  });
});

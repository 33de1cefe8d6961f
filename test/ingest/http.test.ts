import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { importHandler, remoteWriteHandler, remoteWriteVersion, type IngestDeps } from '../../src/ingest/http.js';
import { DecodePool } from '../../src/ingest/decode-workers/pool.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { WriteQueue } from '../../src/ingest/write-queue.js';
import { isStaleAt, STALE_NAN_HI, STALE_NAN_LO } from '../../src/model/value.js';
import { encodeV1, encodeV2, labelsOf, patchDouble, RecordingStorage, snappy, startApp, v1Series } from './fixtures.js';

const V1_HEADERS = {
  'Content-Type': 'application/x-protobuf',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};
const V2_HEADERS = {
  'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '2.0.0',
};

for (const decodeWorkers of [2, 0]) {
  describe(`ingest: HTTP handlers, ${decodeWorkers} decode workers`, () => {
    let decodePool: DecodePool | undefined;
    let storage: RecordingStorage;
    let deps: IngestDeps;
    let app: { url: string; close: () => Promise<void> };

    before(() => {
      decodePool = decodeWorkers > 0 ? new DecodePool(decodeWorkers) : undefined;
    });
    after(() => decodePool?.close());

    beforeEach(async () => {
      storage = new RecordingStorage();
      deps = {
        storage,
        limits: ingestLimits({ maxBodyBytes: 64 * 1024, maxDecodedBytes: 256 * 1024 }),
        queue: new WriteQueue({ maxConcurrent: 1, maxWaiting: 1, maxWaitMs: 5000, retryAfterSeconds: 3 }),
        nowMs: () => 1_700_000_000_000,
        ...(decodePool === undefined ? {} : { decodePool }),
      };
      app = await startApp({ '/api/v1/write': remoteWriteHandler(deps), '/api/v1/import/prometheus': importHandler(deps) });
    });
    afterEach(() => app.close());

    function post(path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
      return fetch(app.url + path, { method: 'POST', body, headers });
    }

    describe('remote write', () => {
      it('stores a 1.0 request and answers 204 with an empty body', async () => {
        let raw = encodeV1([
          v1Series({ labels: { job: 'node', __name__: 'up', empty: '' }, samples: [{ value: 1, timestamp: 1000 }] }),
          v1Series({ labels: { __name__: 'up', job: 'node' }, samples: [{ value: 8.5, timestamp: 2000 }] }),
        ]);
        raw = patchDouble(raw, 8.5, STALE_NAN_HI, STALE_NAN_LO);
        const res = await post('/api/v1/write', snappy(raw), V1_HEADERS);
        expect(res.status).to.equal(204);
        expect(await res.text()).to.equal('');
        expect(res.headers.get('X-Prometheus-Remote-Write-Samples-Written')).to.equal(null);
        const series = storage.allSeries();
        expect(series).to.have.length(1);
        expect(series[0]!.labels).to.deep.equal(labelsOf({ __name__: 'up', job: 'node' }));
        expect(Array.from(series[0]!.timestamps)).to.deep.equal([1000, 2000]);
        expect(isStaleAt(series[0]!.values, 1)).to.equal(true);
      });

      it('accepts a missing Content-Type and Content-Encoding as 1.0 snappy, and proto=prometheus.WriteRequest', async () => {
        const raw = encodeV1([v1Series({ labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 1 }] })]);
        expect((await fetch(app.url + '/api/v1/write', { method: 'POST', body: snappy(raw) })).status).to.equal(204);
        const typed = { ...V1_HEADERS, 'Content-Type': 'application/x-protobuf; proto=prometheus.WriteRequest' };
        expect((await post('/api/v1/write', snappy(raw), typed)).status).to.equal(204);
        expect(storage.appends).to.have.length(2);
      });

      it('stores metadata from 1.0 metadata-only requests', async () => {
        const raw = encodeV1([], [{ type: 2, metricFamilyName: 'temp', help: 'Temperature.', unit: 'celsius' }]);
        expect((await post('/api/v1/write', snappy(raw), V1_HEADERS)).status).to.equal(204);
        expect(storage.metadata).to.deep.equal([[{ metricFamilyName: 'temp', type: 'gauge', help: 'Temperature.', unit: 'celsius' }]]);
        expect(storage.appends).to.have.length(0);
      });

      it('stores a 2.0 request with its metadata and answers with the written-count headers', async () => {
        const raw = encodeV2([
          {
            labels: { __name__: 'reqs_total', job: 'a' },
            samples: [{ value: 1, timestamp: 10 }, { value: 2, timestamp: 20 }],
            metadata: { type: 1, help: 'Requests.', unit: '' },
            exemplars: 1,
          },
          { labels: { __name__: 'up', job: 'a' }, samples: [{ value: 1, timestamp: 10 }] },
        ]);
        const res = await post('/api/v1/write', snappy(raw), V2_HEADERS);
        expect(res.status).to.equal(204);
        expect(res.headers.get('X-Prometheus-Remote-Write-Samples-Written')).to.equal('3');
        expect(res.headers.get('X-Prometheus-Remote-Write-Histograms-Written')).to.equal('0');
        expect(res.headers.get('X-Prometheus-Remote-Write-Exemplars-Written')).to.equal('0');
        expect(storage.allSeries().map((s) => s.labels)).to.deep.equal([
          labelsOf({ __name__: 'reqs_total', job: 'a' }),
          labelsOf({ __name__: 'up', job: 'a' }),
        ]);
        expect(storage.metadata).to.deep.equal([[{ metricFamilyName: 'reqs_total', type: 'counter', help: 'Requests.', unit: '' }]]);
      });

      it('answers 400 for a 2.0 request with native histograms, with zero written counts', async () => {
        const raw = encodeV2([{ labels: { __name__: 'h' }, samples: [], histograms: 1 }]);
        const res = await post('/api/v1/write', snappy(raw), V2_HEADERS);
        expect(res.status).to.equal(400);
        expect(await res.text()).to.match(/native histograms are not supported/);
        expect(res.headers.get('X-Prometheus-Remote-Write-Samples-Written')).to.equal('0');
      });

      it('writes nothing when one series of the request is invalid, and names it', async () => {
        const raw = encodeV1([
          v1Series({ labels: { __name__: 'good' }, samples: [{ value: 1, timestamp: 1 }] }),
          v1Series({ labels: { __name__: 'bad', 'a-b': 'x' }, samples: [{ value: 1, timestamp: 1 }] }),
        ]);
        const res = await post('/api/v1/write', snappy(raw), V1_HEADERS);
        expect(res.status).to.equal(400);
        expect(res.headers.get('content-type')).to.match(/^text\/plain/);
        expect(await res.text()).to.equal('series bad{a-b="x"}: invalid label name "a-b"\n');
        expect(storage.appends).to.have.length(0);
      });

      it('answers 415 for other media types, unknown proto= messages and other encodings', async () => {
        const body = snappy(encodeV1([]));
        for (const headers of [
          { ...V1_HEADERS, 'Content-Type': 'application/json' },
          { ...V1_HEADERS, 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' },
          { ...V1_HEADERS, 'Content-Encoding': 'gzip' },
        ]) {
          const res = await post('/api/v1/write', body, headers);
          expect(res.status, JSON.stringify(headers)).to.equal(415);
        }
      });

      it('answers 413 for a body or a declared snappy length over the limits', async () => {
        const big = new Uint8Array(deps.limits.maxBodyBytes + 1);
        expect((await post('/api/v1/write', big, V1_HEADERS)).status).to.equal(413);
        const bomb = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
        const res = await post('/api/v1/write', bomb, V1_HEADERS);
        expect(res.status).to.equal(413);
        expect(await res.text()).to.match(/more than the limit of 262144/);
      });

      it('answers 400 for corrupt snappy and garbage protobuf', async () => {
        const raw = snappy(encodeV1([v1Series({ labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 1 }] })]));
        expect((await post('/api/v1/write', raw.subarray(0, raw.length - 4), V1_HEADERS)).status).to.equal(400);
        const res = await post('/api/v1/write', snappy(Uint8Array.from([0x0a, 0x7f, 0x01])), V1_HEADERS);
        expect(res.status).to.equal(400);
        expect(await res.text()).to.match(/runs past the end/);
      });

      it('answers 429 with Retry-After when the write queue is full', async () => {
        let release = (): void => undefined;
        storage.gate = new Promise<void>((r) => (release = r));
        const body = snappy(encodeV1([v1Series({ labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 1 }] })]));
        const first = post('/api/v1/write', body, V1_HEADERS); // runs
        const second = post('/api/v1/write', body, V1_HEADERS); // waits
        for (let i = 0; i < 100 && deps.queue.queued < 1; i++) await new Promise((r) => setTimeout(r, 10));
        const third = await post('/api/v1/write', body, V1_HEADERS);
        expect(third.status).to.equal(429);
        expect(third.headers.get('retry-after')).to.equal('3');
        release();
        expect((await first).status).to.equal(204);
        expect((await second).status).to.equal(204);
      });

      it('answers 503 (retryable) when the KV is unavailable, 500 for unexpected failures', async () => {
        const body = snappy(encodeV1([v1Series({ labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 1 }] })]));
        storage.failWith = new MetricstorError('unavailable', 'kv: no endpoint answered');
        const res = await post('/api/v1/write', body, V1_HEADERS);
        expect(res.status).to.equal(503);
        expect(res.headers.get('retry-after')).to.equal('3');
        expect(await res.text()).to.equal('kv: no endpoint answered\n');
        storage.failWith = new Error('surprise');
        expect((await post('/api/v1/write', body, V1_HEADERS)).status).to.equal(500);
      });
    });

    describe('import', () => {
      it('imports the text format with the default timestamp, explicit timestamps and extra labels', async () => {
        const text = '# TYPE jobs_total counter\n# HELP jobs_total Jobs.\njobs_total{queue="a"} 3\njobs_total{queue="b",env="x"} 4 1600000000000\n';
        const res = await post('/api/v1/import/prometheus?timestamp=1650000000000&extra_label=env=prod&extra_label=dc=eu', text, {
          'Content-Type': 'text/plain',
        });
        expect(res.status).to.equal(204);
        const series = storage.allSeries();
        expect(series.map((s) => s.labels)).to.deep.equal([
          labelsOf({ __name__: 'jobs_total', dc: 'eu', env: 'prod', queue: 'a' }),
          labelsOf({ __name__: 'jobs_total', dc: 'eu', env: 'prod', queue: 'b' }),
        ]);
        expect(series.map((s) => Array.from(s.timestamps))).to.deep.equal([[1650000000000], [1600000000000]]);
        expect(storage.metadata).to.deep.equal([[{ metricFamilyName: 'jobs_total', type: 'counter', help: 'Jobs.', unit: '' }]]);
      });

      it('uses now without a timestamp parameter, reads gzip and OpenMetrics', async () => {
        const text = '# TYPE build info\nbuild_info{version="1"} 1\n# EOF\n';
        const res = await post('/api/v1/import/prometheus', gzipSync(text), {
          'Content-Type': 'application/openmetrics-text; version=1.0.0',
          'Content-Encoding': 'gzip',
        });
        expect(res.status).to.equal(204);
        expect(Array.from(storage.allSeries()[0]!.timestamps)).to.deep.equal([1_700_000_000_000]);
      });

      it('answers 400 with the line number for syntax errors, and for bad parameters', async () => {
        const res = await post('/api/v1/import/prometheus', 'a 1\nb{x="1"} oops\n', {});
        expect(res.status).to.equal(400);
        expect(await res.text()).to.equal('line 2: invalid value "oops"\n');
        expect((await post('/api/v1/import/prometheus?timestamp=soon', 'a 1\n', {})).status).to.equal(400);
        expect((await post('/api/v1/import/prometheus?extra_label=novalue', 'a 1\n', {})).status).to.equal(400);
        expect((await post('/api/v1/import/prometheus', 'a 1\n', { 'Content-Encoding': 'br' })).status).to.equal(415);
        expect(storage.appends).to.have.length(0);
      });
    });
  });
}

describe('ingest: remote write content types', () => {
  it('maps Content-Type to a protocol version', () => {
    expect(remoteWriteVersion(undefined)).to.equal('1.0');
    expect(remoteWriteVersion('application/x-protobuf')).to.equal('1.0');
    expect(remoteWriteVersion('application/x-protobuf;proto=prometheus.WriteRequest')).to.equal('1.0');
    expect(remoteWriteVersion('Application/X-Protobuf; proto="io.prometheus.write.v2.Request"')).to.equal('2.0');
    expect(() => remoteWriteVersion('text/plain')).to.throw(/unsupported Content-Type/);
  });
});

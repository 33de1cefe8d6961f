import { expect } from 'chai';
import { Counter, Registry } from 'prom-client';
import { ingestLimits } from '../../src/ingest/limits.js';
import { ingestOwnMetrics } from '../../src/observability/self-ingest.js';
import { NOOP_LOGGER } from '../../src/observability/logger.js';
import { endpointOf } from '../../src/observability/metrics.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { SeriesAppend } from '../../src/storage/types.js';
import { seriesOf } from '../ingest/fixtures.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testConfig } from '../api/config.js';
import { encodeWriteRequest } from '../api/push.js';
import { tempDir } from '../helpers/tmp.js';

/** Sample values of a text exposition by `name{labels}` as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

describe('self-monitoring /metrics', function () {
  this.timeout(20_000);
  let server: RunningServer;
  let base: string;

  before(async () => {
    server = await startServer(testConfig(await tempDir('metrics')), { registry: new Registry(), logger: NOOP_LOGGER });
    base = `http://${server.httpAddress}`;
  });
  after(() => server.close());

  it('counts ingested and rejected samples, requests by endpoint and code, KV calls, series and maintenance', async () => {
    const nowMs = Date.now();
    const ok = await fetch(`${base}/api/v1/import/prometheus?timestamp=${nowMs}`, {
      method: 'POST',
      body: 'm_probe{i="1"} 1\nm_probe{i="2"} 2\nm_probe{i="3"} 3\n',
    });
    expect(ok.status).to.equal(204);
    const bad = await fetch(`${base}/api/v1/import/prometheus`, { method: 'POST', body: 'not a valid line {\n' });
    expect(bad.status).to.equal(400);
    const wrongType = await fetch(`${base}/api/v1/write`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(wrongType.status).to.equal(415);
    const query = await fetch(`${base}/api/v1/query?query=sum(m_probe)&time=${nowMs / 1000}`);
    expect(query.status).to.equal(200);
    expect(await fetch(`${base}/api/v1/label/i/values`).then((r) => r.status)).to.equal(200);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = samples(text);
    expect(m.get('metricstor_ingested_samples_total{protocol="import"}')).to.equal(3);
    expect(m.get('metricstor_ingest_requests_total{protocol="import",outcome="bad_data"}')).to.equal(1);
    expect(m.get('metricstor_ingest_requests_total{protocol="remote_write",outcome="unsupported_media_type"}')).to.equal(1);
    expect(m.get('metricstor_rejected_samples_total{protocol="remote_write",reason="unsupported_media_type"}')).to.equal(0);
    expect(m.get('metricstor_http_requests_total{endpoint="/api/v1/import/prometheus",code="204"}')).to.equal(1);
    expect(m.get('metricstor_http_requests_total{endpoint="/api/v1/import/prometheus",code="400"}')).to.equal(1);
    expect(m.get('metricstor_http_requests_total{endpoint="/api/v1/query",code="200"}')).to.equal(1);
    expect(m.get('metricstor_http_requests_total{endpoint="/api/v1/label/:name/values",code="200"}')).to.equal(1);
    expect(m.get('metricstor_http_request_duration_seconds_count{endpoint="/api/v1/query"}')).to.equal(1);
    expect(m.get('metricstor_http_request_duration_seconds_bucket{le="+Inf",endpoint="/api/v1/query"}')).to.equal(1);
    expect(m.get('metricstor_kv_call_duration_seconds_count{operation="batch"}')).to.be.greaterThan(0);
    expect(m.get('metricstor_kv_call_duration_seconds_count{operation="compareAndSwap"}')).to.be.greaterThan(0);
    expect(m.get('metricstor_series_created_total')).to.equal(3);
    expect(m.get('metricstor_open_chunks')).to.equal(3);
    expect(m.has('metricstor_chunk_cache_hits_total')).to.equal(true);
    expect(m.has('metricstor_chunk_cache_bytes')).to.equal(true);
    expect(m.get('metricstor_maintenance_runs_total{job="retention"}')).to.be.a('number');
    expect(m.get('metricstor_maintenance_runs_total{job="compaction"}')).to.be.a('number');
    expect(text).to.match(/# TYPE metricstor_kv_call_duration_seconds histogram/);
  });

  it('counts the samples of a remote write refused after decoding under its reason', async () => {
    const nowMs = Date.now();
    const post = (labels: Record<string, string>): Promise<Response> =>
      fetch(`${base}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        body: encodeWriteRequest([{ labels, timestamps: [nowMs - 1000, nowMs], values: [1, 2] }]),
      });
    expect((await post({ __name__: 'rw_probe', ok: 'yes' })).status).to.equal(204);
    expect((await post({ __name__: 'rw_probe', '0bad': 'label name' })).status).to.equal(400);
    const m = samples(await (await fetch(`${base}/metrics`)).text());
    expect(m.get('metricstor_ingested_samples_total{protocol="remote_write"}')).to.equal(2);
    expect(m.get('metricstor_rejected_samples_total{protocol="remote_write",reason="bad_data"}')).to.equal(2);
    expect(m.get('metricstor_http_requests_total{endpoint="/api/v1/write",code="400"}')).to.equal(1);
  });

  it('keeps the endpoint label bounded', () => {
    expect(endpointOf('/api/v1/label/job/values', 200)).to.equal('/api/v1/label/:name/values');
    expect(endpointOf('/api/v1/query', 200)).to.equal('/api/v1/query');
    expect(endpointOf('/api/v1/nothing_here', 404)).to.equal('other');
    expect(endpointOf('/some/random/path', 200)).to.equal('other');
    expect(endpointOf('/assets/app-1234.js', 200)).to.equal('/assets/:file');
  });
});

describe('/metrics behind credentials', function () {
  this.timeout(20_000);

  it('is a read route: refused without the bearer token, served with it', async () => {
    const dir = await tempDir('metrics-auth');
    const tokens = path.join(dir, 'tokens');
    await writeFile(tokens, 'scrape-secret\n');
    const base = testConfig(path.join(dir, 'data'));
    const server = await startServer({ ...base, server: { ...base.server, auth: { bearerTokenFile: tokens } } }, { logger: NOOP_LOGGER });
    try {
      const url = `http://${server.httpAddress}/metrics`;
      expect((await fetch(url)).status).to.equal(401);
      const ok = await fetch(url, { headers: { authorization: 'Bearer scrape-secret' } });
      expect(ok.status).to.equal(200);
      expect(await ok.text()).to.contain('metricstor_http_requests_total{endpoint="/metrics",code="401"} 1');
    } finally {
      await server.close();
    }
  });
});

describe('self-monitoring ingest', () => {
  it('stores the server\'s own metrics at the configured interval', async function () {
    this.timeout(20_000);
    const base = testConfig(await tempDir('self-ingest'));
    const server = await startServer({ ...base, selfMonitoring: { ingestIntervalMs: 100 } }, { logger: NOOP_LOGGER });
    try {
      const query = `${`http://${server.httpAddress}`}/api/v1/query?query=${encodeURIComponent('count(metricstor_open_chunks{job="metricstor"})')}`;
      let result: unknown[] = [];
      for (let attempt = 0; attempt < 50 && result.length === 0; attempt++) {
        await new Promise((r) => setTimeout(r, 100));
        result = ((await (await fetch(query)).json()) as { data: { result: unknown[] } }).data.result;
      }
      expect(result).to.have.length(1);
    } finally {
      await server.close();
    }
  });

  it('appends the registry with job and instance labels at the current time', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'h', labelNames: ['k'], registers: [registry] }).inc({ k: 'v' }, 7);
    const appended: SeriesAppend[] = [];
    const written = await ingestOwnMetrics({
      registry,
      storage: { append: async (batch) => void appended.push(...seriesOf(batch)) },
      limits: ingestLimits(),
      intervalMs: 1000,
      instance: '127.0.0.1:9101',
      logger: NOOP_LOGGER,
      nowMs: () => 1_700_000_000_000,
    });
    expect(written).to.equal(1);
    expect(appended).to.have.length(1);
    expect(Object.fromEntries(appended[0]!.labels.map((l) => [l.name, l.value]))).to.deep.equal({
      __name__: 'probe_total',
      instance: '127.0.0.1:9101',
      job: 'metricstor',
      k: 'v',
    });
    expect(Array.from(appended[0]!.timestamps)).to.deep.equal([1_700_000_000_000]);
    expect(Array.from(appended[0]!.values)).to.deep.equal([7]);
  });
});

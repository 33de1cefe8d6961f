import http from 'node:http';
import { expect } from 'chai';
import { DecodePool } from '../../src/ingest/decode-workers/pool.js';
import { remoteWriteHandler } from '../../src/ingest/http.js';
import { ingestLimits } from '../../src/ingest/limits.js';
import { WriteQueue } from '../../src/ingest/write-queue.js';
import { formatLabels, type Label } from '../../src/model/labels.js';
import { prometheusOnPath, startPrometheus, type PrometheusProcess } from '../../src/promql/testing/prometheus-process.js';
import { freePort } from '../helpers/net.js';
import { MemoryKv } from '../../src/kv/memory.js';
import { Storage } from '../../src/storage/index.js';
import { startApp } from './fixtures.js';

/** A small exporter whose values change on every scrape: counters, a gauge and a histogram. */
function startTarget(port: number): Promise<http.Server> {
  let scrapes = 0;
  const server = http.createServer((_req, res) => {
    scrapes++;
    const lines = [
      '# HELP demo_requests_total Requests handled.',
      '# TYPE demo_requests_total counter',
      `demo_requests_total{code="200",method="get"} ${scrapes * 3}`,
      `demo_requests_total{code="500",method="post"} ${scrapes}`,
      '# HELP demo_temperature_celsius Current temperature.',
      '# TYPE demo_temperature_celsius gauge',
      `demo_temperature_celsius{room="lab"} ${(20 + Math.sin(scrapes)).toFixed(6)}`,
      `demo_temperature_celsius{room="hall"} ${scrapes % 2 === 0 ? 'NaN' : '-1.5e-3'}`,
      '# HELP demo_latency_seconds Request latency.',
      '# TYPE demo_latency_seconds histogram',
      `demo_latency_seconds_bucket{le="0.1"} ${scrapes}`,
      `demo_latency_seconds_bucket{le="1"} ${scrapes * 2}`,
      `demo_latency_seconds_bucket{le="+Inf"} ${scrapes * 2}`,
      `demo_latency_seconds_sum ${scrapes * 0.75}`,
      `demo_latency_seconds_count ${scrapes * 2}`,
      '',
    ];
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n'));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

interface PromMatrix {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
}

function seriesKey(labels: readonly Label[]): string {
  return formatLabels([...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
}

describe('ingest: remote write from a real Prometheus 2.42', function () {
  this.timeout(40_000);
  let prometheus: PrometheusProcess | undefined;
  let target: http.Server | undefined;
  let receiver: { url: string; close: () => Promise<void> } | undefined;
  let storage: Storage | undefined;
  let decodePool: DecodePool | undefined;

  before(function () {
    if (prometheusOnPath()) return;
    if (process.env['CI'] === 'true') throw new Error('the prometheus binary is required in CI but was not found');
    console.warn('\n  !!! SKIPPING the Prometheus remote-write integration test: no prometheus binary on PATH !!!\n');
    this.skip();
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((r) => (target ? target.close(() => r()) : r()));
    await receiver?.close();
    await decodePool?.close();
    await storage?.close();
  });

  it('stores every series and sample Prometheus stored itself', async () => {
    storage = await Storage.open(new MemoryKv(), { orphanCheckMs: 0 });
    decodePool = new DecodePool(2);
    const deps = { storage, limits: ingestLimits(), queue: new WriteQueue(), decodePool };
    receiver = await startApp({ '/api/v1/write': remoteWriteHandler(deps) });
    const targetPort = await freePort();
    target = await startTarget(targetPort);
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 500ms',
      'scrape_configs:',
      '  - job_name: demo',
      `    static_configs: [{ targets: ["127.0.0.1:${targetPort}"] }]`,
      'remote_write:',
      `  - url: ${receiver.url}/api/v1/write`,
      '    queue_config: { batch_send_deadline: 100ms, max_samples_per_send: 50, min_backoff: 10ms, max_backoff: 100ms }',
      '    metadata_config: { send: true, send_interval: 1s }',
    ].join('\n');
    const prom = await startPrometheus({ config, readyTimeoutMs: 10_000 });
    prometheus = prom;
    const web = prom.baseUrl;
    const log = (): string => prom.log().slice(-4000);

    // Let Prometheus scrape a few times, then compare what it stored with what we received.
    const deadline = Date.now() + 20_000;
    let promSeries: PromMatrix['data']['result'] = [];
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const res = await fetch(`${web}/api/v1/query?query=${encodeURIComponent('{__name__=~".+"}[1h]')}`);
      const body = (await res.json()) as PromMatrix;
      promSeries = body.data.result;
      const samples = promSeries.reduce((n, s) => n + s.values.length, 0);
      if (promSeries.length >= 14 && samples >= 14 * 3) break;
    }
    expect(promSeries.length, `Prometheus log: ${log()}`).to.be.at.least(14);

    // Remote write trails the local TSDB by up to a batch deadline plus a send; wait for it.
    let missing: string[] = [];
    while (Date.now() < deadline + 5000) {
      const ours = new Map<string, Map<number, number>>();
      const stored = await storage.select({ matchers: [{ type: '=~', name: '__name__', value: '.+' }], startMs: 0, endMs: Date.now() + 60_000 });
      for (const s of stored) {
        const key = seriesKey(s.labels);
        const samples = ours.get(key) ?? new Map<number, number>();
        for (let i = 0; i < s.timestamps.length; i++) samples.set(s.timestamps[i]!, s.values[i]!);
        ours.set(key, samples);
      }
      missing = [];
      for (const s of promSeries) {
        const key = seriesKey(Object.entries(s.metric).map(([name, value]) => ({ name, value })));
        const samples = ours.get(key);
        for (const [tsSeconds, text] of s.values) {
          const ts = Math.round(tsSeconds * 1000);
          const want = Number(text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : text);
          const got = samples?.get(ts);
          if (got === undefined || !(Object.is(got, want) || got === want)) missing.push(`${key}@${ts}=${text} (ours: ${got})`);
        }
      }
      if (missing.length === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(missing, `missing in our storage; Prometheus log: ${log()}`).to.deep.equal([]);
    expect(promSeries.map((s) => s.metric['__name__'])).to.include.members([
      'demo_requests_total',
      'demo_latency_seconds_bucket',
      'up',
      'scrape_duration_seconds',
    ]);

    // Metadata travels in its own requests every send_interval.
    let meta = [...(await storage.metadata()).values()].flat();
    for (let i = 0; i < 40 && !meta.some((m) => m.metricFamilyName === 'demo_latency_seconds'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      meta = [...(await storage.metadata()).values()].flat();
    }
    expect(meta).to.deep.include({ metricFamilyName: 'demo_requests_total', type: 'counter', help: 'Requests handled.', unit: '' });
    expect(meta).to.deep.include({ metricFamilyName: 'demo_latency_seconds', type: 'histogram', help: 'Request latency.', unit: '' });
  });
});

/**
 * A real Prometheus 2.42 with an empty TSDB reads everything through our remote read endpoint;
 * its query answers must equal Metricstor's own. (Prometheus 2.42's client sends no
 * accepted_response_types, so this exercises SAMPLES; the streamed type is tested by hand.)
 */
import { expect } from 'chai';
import { prometheusOnPath, startPrometheus, type PrometheusProcess } from '../../src/promql/testing/prometheus-process.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { generateSeries, pushRemoteWrite } from '../api/push.js';
import { tempDir } from '../helpers/tmp.js';

const STEP_MS = 15_000;
const POINTS = 121;
const END_MS = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

const QUERIES = [
  'up',
  'node_load1{instance=~"host-[01].*"}',
  'rate(node_cpu_seconds_total{mode!="idle"}[2m])',
  'sum by (code) (http_requests_total)',
  'batch_last_success',
  '{job=~"batch|api", job!~"api"}',
];

interface PromResponse {
  status: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
}

describe('remote read: Prometheus 2.42 reading through Metricstor', function () {
  this.timeout(60_000);
  let prometheus: PrometheusProcess | undefined;
  let metricstor: RunningServer | undefined;
  let promUrl = '';
  let ourUrl = '';

  before(async function () {
    if (!prometheusOnPath()) {
      if (process.env['CI'] === 'true') throw new Error('prometheus must be installed in CI');
      console.warn('SKIPPED: prometheus not found on PATH; the remote read test against it did not run');
      this.skip();
    }
    metricstor = await startServer(testConfig(await tempDir('remote-read-prom')));
    ourUrl = `http://${metricstor.httpAddress}`;
    await pushRemoteWrite(ourUrl, generateSeries(END_MS, POINTS, STEP_MS));
    prometheus = await startPrometheus({
      config: `global:\n  scrape_interval: 15s\nremote_read:\n  - url: ${ourUrl}/api/v1/read\n    read_recent: true\n`,
      logLevel: 'error',
      echoLog: true,
      readyTimeoutMs: 20_000,
    });
    promUrl = prometheus.baseUrl;
  });

  after(async () => {
    await prometheus?.stop();
    await metricstor?.close();
  });

  const sorted = (r: PromResponse): string =>
    JSON.stringify(
      (r.data?.result ?? []).map((s) => JSON.stringify(s)).sort(),
    );

  for (const expr of QUERIES) {
    it(`query_range ${expr}`, async () => {
      const qs = new URLSearchParams({
        query: expr,
        start: String((END_MS - 25 * 60_000) / 1000),
        end: String(END_MS / 1000),
        step: '60',
      });
      const [theirs, ours] = (await Promise.all(
        [promUrl, ourUrl].map(async (u) => (await fetch(`${u}/api/v1/query_range?${qs}`)).json()),
      )) as [PromResponse, PromResponse];
      expect(theirs.status, JSON.stringify(theirs)).to.equal('success');
      expect(theirs.data!.result.length, 'Prometheus found series through remote read').to.be.greaterThan(0);
      expect(sorted(theirs)).to.equal(sorted(ours));
    });
  }
});

/**
 * The same data pushed by remote write into a real Prometheus 2.42 and into Metricstor; promtool's
 * query commands must print the same thing for both.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { onPath, startPrometheus, type PrometheusProcess } from '../../src/promql/testing/prometheus-process.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from './config.js';
import { generateSeries, pushRemoteWrite } from './push.js';

const run = promisify(execFile);

const STEP_MS = 15_000;
const POINTS = 121;
const END_MS = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
const END = String(END_MS / 1000);
const MID = String((END_MS - 12 * 60_000 + 7_500) / 1000);

const INSTANT_QUERIES = [
  'up',
  'node_load1',
  'up == 0',
  'rate(node_cpu_seconds_total[5m])',
  'sum by (mode) (rate(node_cpu_seconds_total[5m]))',
  'sum(http_requests_total) by (code)',
  'count(up == 1)',
  '1+1',
  'node_load1[1m]',
  'batch_last_success',
  'http_requests_total',
  'topk(1, node_load1)',
  'absent(nonexistent_metric{job="x"})',
  'scalar(sum(up)) * 1e-9',
  'label_replace(up, "host", "$1", "instance", "(.*):.*")',
  'max_over_time(node_load1{instance="host-1:9100"}[10m]) - min_over_time(node_load1{instance="host-1:9100"}[10m])',
];
const RANGE_QUERIES = [
  'sum(up)',
  'rate(node_cpu_seconds_total{mode="idle",cpu="0"}[2m])',
  'avg_over_time(node_load1[5m])',
  'batch_last_success',
];

describe('promtool: Metricstor answers like Prometheus 2.42', function () {
  this.timeout(60_000);
  let prometheus: PrometheusProcess | undefined;
  let metricstor: RunningServer | undefined;
  let promUrl = '';
  let ourUrl = '';

  before(async function () {
    if (!onPath('prometheus') || !onPath('promtool')) {
      if (process.env['CI'] === 'true') throw new Error('prometheus and promtool must be installed in CI');
      console.warn('SKIPPED: prometheus/promtool not found on PATH; the promtool comparison did not run');
      this.skip();
    }
    prometheus = await startPrometheus({
      config: 'global:\n  scrape_interval: 15s\n',
      logLevel: 'error',
      echoLog: true,
      readyTimeoutMs: 20_000,
    });
    promUrl = prometheus.baseUrl;
    metricstor = await startServer(testConfig(await tempDir('promtool')));
    ourUrl = `http://${metricstor.httpAddress}`;
    const data = generateSeries(END_MS, POINTS, STEP_MS);
    await Promise.all([pushRemoteWrite(promUrl, data), pushRemoteWrite(ourUrl, data)]);
  });

  after(async () => {
    await prometheus?.stop();
    await metricstor?.close();
  });

  async function both(args: string[]): Promise<[string, string]> {
    const [theirs, ours] = await Promise.all(
      [promUrl, ourUrl].map(async (url) => {
        const filled = args.map((a) => (a === '<url>' ? url : a));
        try {
          return (await run('promtool', filled, { timeout: 15_000 })).stdout;
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string };
          return `FAILED\n${e.stdout ?? ''}${e.stderr ?? ''}`;
        }
      }),
    );
    return [theirs!, ours!];
  }

  /** Vector order is not specified by Prometheus; compare instant answers line-sorted. */
  const sortLines = (s: string): string => s.split('\n').sort().join('\n');

  for (const expr of INSTANT_QUERIES) {
    it(`query instant ${expr}`, async () => {
      let answered = 0;
      for (const time of [END, MID]) {
        const [theirs, ours] = await both(['query', 'instant', '<url>', expr, `--time=${time}`]);
        expect(theirs).to.not.match(/^FAILED/);
        if (theirs.trim() !== '') answered++;
        if (process.env['PROMTOOL_SHOW'] === '1') console.log(`--- ${expr} @${time}\n${ours}`);
        expect(sortLines(ours), `at ${time}`).to.equal(sortLines(theirs));
      }
      expect(answered, 'Prometheus answered with something at one of the times').to.be.greaterThan(0);
    });
  }

  for (const expr of RANGE_QUERIES) {
    it(`query range ${expr}`, async () => {
      const start = String((END_MS - 20 * 60_000) / 1000);
      const [theirs, ours] = await both(['query', 'range', '<url>', expr, `--start=${start}`, `--end=${END}`, '--step=1m']);
      expect(theirs).to.not.match(/^FAILED/);
      expect(theirs.trim(), 'Prometheus found something').to.not.equal('');
      expect(ours).to.equal(theirs);
    });
  }

  it('query series', async () => {
    const start = String((END_MS - 60 * 60_000) / 1000);
    const [theirs, ours] = await both([
      'query', 'series', '<url>', '--match=up', '--match={job="api"}', '--match=node_load1{instance=~"host-[01].*"}',
      `--start=${start}`, `--end=${END}`,
    ]);
    expect(theirs).to.not.match(/^FAILED/);
    expect(ours).to.equal(theirs);
  });

  // Raw answers, byte for byte: the JSON encoding itself must match, not just what promtool prints.
  const RAW = [
    `/api/v1/query?query=${encodeURIComponent('http_requests_total')}&time=${END}`,
    `/api/v1/query?query=${encodeURIComponent('node_load1[1m]')}&time=${MID}`,
    `/api/v1/query?query=${encodeURIComponent('scalar(sum(up)) * 1e-9')}&time=${MID}`,
    `/api/v1/query?query=${encodeURIComponent('"a<b>&c"')}&time=${MID}`,
    `/api/v1/query_range?query=${encodeURIComponent('rate(node_cpu_seconds_total{cpu="1"}[2m]) * 1e22')}&start=${MID}&end=${END}&step=90`,
    `/api/v1/query_range?query=${encodeURIComponent('node_load1 / 0 - 1')}&start=${MID}&end=${END}&step=300`,
    `/api/v1/labels`,
    `/api/v1/label/handler/values`,
    `/api/v1/series?match[]=${encodeURIComponent('{job="api"}')}`,
    `/api/v1/query?query=${encodeURIComponent('sum(')}`,
    `/api/v1/query_range?query=up&start=${MID}&end=${END}&step=0`,
    `/api/v1/query_range?query=up&start=0&end=11001&step=1`,
    `/api/v1/series`,
    `/api/v1/label/1x/values`,
    `/api/v1/query?query=up&time=yesterday`,
    `/api/v1/query?query=${encodeURIComponent('time()')}&time=1435781451.781`,
    `/api/v1/query?query=${encodeURIComponent('vector(1)')}&time=2015-07-01T22:10:51.781%2B02:00`,
    `/api/v1/query_range?query=${encodeURIComponent('up[5m]')}&start=${MID}&end=${END}&step=60`,
    `/api/v1/query_range?query=up&start=${END}&end=${MID}&step=60`,
    `/api/v1/query_range?query=up&start=${MID}&end=${END}&step=1x`,
    `/api/v1/query_exemplars?query=up&start=${MID}&end=${END}`,
    `/api/v1/format_query?query=${encodeURIComponent('sum(rate(x{a="b"}[5m]))by(job)>bool 2')}`,
    `/api/v1/metadata`,
    `/api/v1/labels?match[]=up`,
    `/api/v1/label/__name__/values?match[]=${encodeURIComponent('{job="node"}')}`,
    `/api/v1/series?match[]=up&match[]=${encodeURIComponent('{instance="host-1:9100"}')}&start=${MID}&end=${END}`,
    `/api/v1/series?match[]=${encodeURIComponent('{job=~".*"}')}`,
    `/api/v1/series?match[]=${encodeURIComponent('up{')}`,
    `/api/v1/labels?match[]=${encodeURIComponent('{job=~".*"}')}`,
    `/api/v1/labels?match[]=${encodeURIComponent('up{')}`,
    `/api/v1/label/job/values?match[]=${encodeURIComponent('{job=~".*"}')}`,
    `/api/v1/label/job/values?match[]=${encodeURIComponent('up{')}`,
    `/api/v1/labels?start=x`,
    `/api/v1/series?match[]=up&end=x`,
    `/api/v1/query?query=up&timeout=x`,
    `/api/v1/query?query=${encodeURIComponent('node_load1 * -0')}&time=${END}`,
    `/api/v1/query_range?query=up&start=${MID}&end=${END}&step=1e10`,
    `/api/v1/query_exemplars?query=1`,
    `/api/v1/format_query?query=${encodeURIComponent('sum(')}`,
    `/api/v1/metadata?limit=x`,
    `/api/v1/rules`,
    `/api/v1/rules?type=nope`,
    `/api/v1/alerts`,
    `/api/v1/targets`,
  ];
  it('raw POST form bodies, with body values before query-string values', async () => {
    const path = `/api/v1/query?query=up`;
    const body = new URLSearchParams({ query: 'node_load1', time: MID }).toString();
    const init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body };
    const [theirs, ours] = await Promise.all([fetch(promUrl + path, init), fetch(ourUrl + path, init)]);
    const theirText = await theirs.text();
    expect(theirText).to.contain('node_load1');
    expect(await ours.text()).to.equal(theirText);
  });

  for (const path of RAW) {
    it(`raw ${decodeURIComponent(path)}`, async () => {
      const [theirs, ours] = await Promise.all([fetch(promUrl + path), fetch(ourUrl + path)]);
      const theirText = await theirs.text();
      expect(await ours.text()).to.equal(theirText);
      expect(ours.status).to.equal(theirs.status);
    });
  }

  for (const name of ['__name__', 'job', 'instance', 'handler']) {
    it(`query labels ${name}`, async () => {
      const [theirs, ours] = await both(['query', 'labels', '<url>', name]);
      expect(theirs).to.not.match(/^FAILED/);
      expect(theirs.trim(), 'Prometheus found something').to.not.equal('');
      expect(ours).to.equal(theirs);
    });
  }
});

/**
 * Every request shape Grafana's Prometheus data source sends (see the team's notes on it), replayed
 * against a Metricstor started through startServer and fed by remote write.
 */
import { expect } from 'chai';
import { MetricMetadata_MetricType } from '../../src/generated/prompb/prometheus/types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from './config.js';
import { envelope } from './harness.js';
import { generateSeries, pushRemoteWrite } from './push.js';

const STEP_MS = 15_000;
const POINTS = 121;
const END_MS = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
const START_MS = END_MS - (POINTS - 1) * STEP_MS;

describe('Grafana data source request shapes', function () {
  this.timeout(30_000);
  let server: RunningServer;
  let base = '';

  before(async () => {
    server = await startServer(testConfig(await tempDir('grafana')));
    base = `http://${server.httpAddress}`;
    await pushRemoteWrite(base, generateSeries(END_MS, POINTS, STEP_MS), [
      { type: MetricMetadata_MetricType.GAUGE, metricFamilyName: 'node_load1', help: '1m load average.', unit: '' },
      { type: MetricMetadata_MetricType.COUNTER, metricFamilyName: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode.', unit: 'seconds' },
    ]);
  });
  after(() => server.close());

  /** Grafana's backend: form POST (its default httpMethod) with Go-formatted numbers. */
  const post = (path: string, form: Record<string, string>): Promise<Response> =>
    fetch(`${base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const get = (path: string, query: Record<string, string> | [string, string][]): Promise<Response> =>
    fetch(`${base}/${path}?${new URLSearchParams(query).toString()}`);

  // Language-provider times: whole seconds, snapped to the minute (cache level "Low").
  const lpStart = String(Math.floor(START_MS / 60_000) * 60);
  const lpEnd = String(Math.ceil(END_MS / 60_000) * 60);

  it('health check: query=1+1&time=4 gives the scalar 2', async () => {
    const res = await post('api/v1/query', { query: '1+1', time: '4' });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
  });

  it('heuristics: buildinfo without features (vanilla Prometheus)', async () => {
    const { status, body } = await envelope(await fetch(`${base}/api/v1/status/buildinfo`));
    expect(status).to.equal(200);
    expect((body.data as Record<string, unknown>)['version']).to.equal('2.42.0');
    expect(body.data).to.not.have.any.keys(['features', 'application']);
  });

  it('init: rules, and exemplars probed with millisecond start/end', async () => {
    expect((await envelope(await fetch(`${base}/api/v1/rules`))).body).to.deep.equal({
      status: 'success',
      data: { groups: [] },
    });
    const ex = await envelope(await post('api/v1/query_exemplars', { query: 'test', start: String(START_MS), end: String(END_MS) }));
    expect(ex.body).to.deep.equal({ status: 'success', data: [] });
  });

  it('metric names via label/__name__/values with limit=40000', async () => {
    const { body } = await envelope(await get('api/v1/label/__name__/values', { start: lpStart, end: lpEnd, limit: '40000' }));
    expect(body.data).to.deep.equal(['batch_last_success', 'http_requests_total', 'node_cpu_seconds_total', 'node_load1', 'up']);
  });

  it('metric search in code mode via match[] with a regex', async () => {
    const { body } = await envelope(
      await get('api/v1/label/__name__/values', [
        ['match[]', '{__name__=~".*cpu.*"}'],
        ['start', lpStart],
        ['end', lpEnd],
        ['limit', '40000'],
      ]),
    );
    expect(body.data).to.deep.equal(['node_cpu_seconds_total']);
  });

  it('label names (POST resource call) with and without match[]', async () => {
    const all = await envelope(await post('api/v1/labels', { start: lpStart, end: lpEnd, limit: '40000' }));
    expect(all.body.data).to.deep.equal(['__name__', 'code', 'cpu', 'handler', 'instance', 'job', 'mode']);
    const some = await envelope(
      await post('api/v1/labels', { start: lpStart, end: lpEnd, limit: '40000', 'match[]': 'node_load1' }),
    );
    expect(some.body.data).to.deep.equal(['__name__', 'instance', 'job']);
  });

  it('label values for a selector (variables, ad-hoc filters)', async () => {
    const { body } = await envelope(
      await get('api/v1/label/mode/values', [
        ['match[]', 'node_cpu_seconds_total{instance="host-0:9100"}'],
        ['start', lpStart],
        ['end', lpEnd],
      ]),
    );
    expect(body.data).to.deep.equal(['idle', 'system', 'user']);
  });

  it('a POST to a GET-only endpoint is 405, and the GET retry works', async () => {
    const first = await post('api/v1/label/job/values', { start: lpStart, end: lpEnd });
    expect(first.status).to.equal(405);
    const retry = await envelope(await get('api/v1/label/job/values', { start: lpStart, end: lpEnd }));
    expect(retry.body.data).to.deep.equal(['api', 'batch', 'node']);
  });

  it('series lookup with match[]={__name__!=""}', async () => {
    const { body } = await envelope(
      await post('api/v1/series', { 'match[]': '{__name__!=""}', start: lpStart, end: lpEnd, limit: '40000' }),
    );
    const series = body.data as Record<string, string>[];
    expect(series).to.have.length(3 * (2 + 6) + 2 + 1);
    expect(series).to.deep.include({ __name__: 'http_requests_total', code: '500', handler: '/api/v1/<query>&x', job: 'api' });
  });

  it('metadata (always GET) from what remote write sent', async () => {
    const { status, body } = await envelope(await get('api/v1/metadata', { limit: '40000' }));
    expect(status).to.equal(200);
    expect(body.data).to.deep.equal({
      node_load1: [{ type: 'gauge', help: '1m load average.', unit: '' }],
      node_cpu_seconds_total: [{ type: 'counter', help: 'Seconds the CPUs spent in each mode.', unit: 'seconds' }],
    });
  });

  it('panel range query: aligned start/end, step and timeout as Grafana sends them', async () => {
    const stepS = 60;
    const start = Math.floor((END_MS - 10 * 60_000) / 1000 / stepS) * stepS;
    const end = Math.floor(END_MS / 1000 / stepS) * stepS;
    const res = await post('api/v1/query_range', {
      query: 'sum by (mode) (rate(node_cpu_seconds_total{instance="host-0:9100"}[1m]))',
      start: String(start),
      end: String(end),
      step: String(stepS),
      timeout: '60s',
    });
    const { status, body } = await envelope(res);
    expect(status).to.equal(200);
    const data = body.data as { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
    expect(data.resultType).to.equal('matrix');
    expect(data.result.map((s) => s.metric['mode']).sort()).to.deep.equal(['idle', 'system', 'user']);
    for (const s of data.result) {
      expect(s.values.map(([t]) => t)).to.deep.equal(Array.from({ length: 11 }, (_, i) => start + i * stepS));
      for (const [, v] of s.values) expect(Number.isFinite(Number.parseFloat(v))).to.equal(true);
    }
    // two CPUs, each idle at 0.9 s/s
    const idle = data.result.find((s) => s.metric['mode'] === 'idle')!;
    expect(Number(idle.values[5]![1])).to.be.closeTo(1.8, 1e-9);
  });

  it('instant query at the raw end time (fractional seconds), and a string result', async () => {
    const time = (END_MS + 500) / 1000;
    const { body } = await envelope(await post('api/v1/query', { query: 'up{instance="host-0:9100"}', time: String(time) }));
    expect(body.data).to.deep.equal({
      resultType: 'vector',
      result: [{ metric: { __name__: 'up', instance: 'host-0:9100', job: 'node' }, value: [time, '1'] }],
    });
    const str = await envelope(await post('api/v1/query', { query: '"hello"', time: '4' }));
    expect(str.body.data).to.deep.equal({ resultType: 'string', result: [4, 'hello'] });
  });

  it('errors come back as JSON that Grafana shows as "<errorType>: <error>"', async () => {
    const res = await post('api/v1/query_range', { query: 'rate(', start: '0', end: '60', step: '15' });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as { status: string; errorType: string; error: string };
    expect(body.status).to.equal('error');
    expect(body.errorType).to.equal('bad_data');
    expect(body.error).to.match(/parse error/);
  });
});

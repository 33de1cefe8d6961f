/** Every endpoint's shape and errors, over the real storage (on the in-memory KV), engine and parser. */
import { expect } from 'chai';
import type { ApiDeps } from '../../src/api/deps.js';
import { MemoryKv } from '../../src/kv/memory.js';
import type { Label } from '../../src/model/labels.js';
import { sortLabels } from '../../src/model/labels.js';
import { PromqlEngine } from '../../src/promql/engine/engine.js';
import { PROMQL_TEXT } from '../../src/server.js';
import { Storage } from '../../src/storage/index.js';
import { envelope, TEST_INFO, TestApi } from './harness.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

// First sample, ms: recent, because status/tsdb reports on the current day as Prometheus's head does.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
const STEP = 15_000;
const POINTS = 41; // ten minutes

function labels(record: Record<string, string>): Label[] {
  return sortLabels(Object.entries(record).map(([name, value]) => ({ name, value })));
}

describe('api endpoints (real storage and engine)', () => {
  let api: TestApi;
  let storage: Storage;
  let kv: MemoryKv;

  before(async () => {
    kv = new MemoryKv();
    storage = await Storage.open(kv);
    const timestamps = Array.from({ length: POINTS }, (_, i) => T0 + i * STEP);
    const series: Record<string, string>[] = [
      { __name__: 'up', job: 'node', instance: 'a' },
      { __name__: 'up', job: 'node', instance: 'b' },
      { __name__: 'up', job: 'api', instance: 'c' },
      { __name__: 'requests_total', job: 'api', path: '/x&y' },
    ];
    await storage.append(
      appendBatchOf(series.map((s, n) => ({
        labels: labels(s),
        timestamps,
        values: Float64Array.from(timestamps, (_, i) => (s.__name__ === 'up' ? (n === 1 ? 0 : 1) : i * 2)),
      }))),
    );
    await storage.putMetadata([
      { metricFamilyName: 'up', type: 'gauge', help: 'Whether the target is up.', unit: '' },
      { metricFamilyName: 'requests_total', type: 'counter', help: 'Requests.', unit: 'requests' },
    ]);
    const deps: ApiDeps = {
      storage,
      engine: new PromqlEngine(storage, { parse: PROMQL_TEXT.parseExpr, limits: { maxPointsPerSeries: 11_001 } }),
      promql: PROMQL_TEXT,
      info: TEST_INFO,
      queryTimeoutMs: 60_000,
      maxFormBodyBytes: 1 << 20,
      nowMs: () => T0 + 10 * 60_000,
      logError: () => undefined,
    };
    api = await TestApi.start(deps);
  });

  after(async () => {
    await api.close();
    await storage.close();
    await kv.close();
  });

  const get = async (path: string): Promise<ReturnType<typeof envelope>> => envelope(await api.get(path));
  const enc = encodeURIComponent;

  describe('/api/v1/query', () => {
    it('evaluates 1+1 at time 4 as Grafana\'s health check expects', async () => {
      const res = await api.postForm('/api/v1/query', 'query=1%2B1&time=4');
      expect(await res.text()).to.equal('{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}');
    });

    it('returns a vector stamped with the evaluation time', async () => {
      const t = (T0 + 5 * 60_000 + 500) / 1000;
      const { status, body } = await get(`/api/v1/query?query=${enc('up{job="node"}')}&time=${t}`);
      expect(status).to.equal(200);
      expect(body.data).to.deep.equal({
        resultType: 'vector',
        result: [
          { metric: { __name__: 'up', instance: 'a', job: 'node' }, value: [t, '1'] },
          { metric: { __name__: 'up', instance: 'b', job: 'node' }, value: [t, '0'] },
        ],
      });
    });

    it('returns a matrix with raw sample times for a range selector (both ends included in 2.42)', async () => {
      const t = (T0 + 30_000) / 1000;
      const { body } = await get(`/api/v1/query?query=${enc('up{instance="a"}[30s]')}&time=${t}`);
      expect(body.data).to.deep.equal({
        resultType: 'matrix',
        result: [
          {
            metric: { __name__: 'up', instance: 'a', job: 'node' },
            values: [[T0 / 1000, '1'], [(T0 + 15_000) / 1000, '1'], [t, '1']],
          },
        ],
      });
    });

    it('reports a parse error as a bad "query" parameter', async () => {
      const { status, body } = await get(`/api/v1/query?query=${enc('sum(')}&time=1`);
      expect(status).to.equal(400);
      expect(body.errorType).to.equal('bad_data');
      expect(body.error).to.match(/^invalid parameter "query": 1:\d+: parse error: /);
    });

    it('reports a bad time with Prometheus\'s wording', async () => {
      const { status, body } = await get('/api/v1/query?query=up&time=yesterday');
      expect(status).to.equal(400);
      expect(body.error).to.equal(
        `invalid parameter "time": Invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`,
      );
    });
  });

  describe('/api/v1/query_range', () => {
    it('returns a matrix on the start + k·step grid', async () => {
      const start = (T0 + 60_000) / 1000;
      const { body } = await get(`/api/v1/query_range?query=${enc('sum(up)')}&start=${start}&end=${start + 120}&step=60`);
      expect(body.data).to.deep.equal({
        resultType: 'matrix',
        result: [{ metric: {}, values: [[start, '2'], [start + 60, '2'], [start + 120, '2']] }],
      });
    });

    it('refuses more than 11,000 steps, a bad step, and a range-vector expression', async () => {
      let r = await get('/api/v1/query_range?query=up&start=0&end=11001&step=1');
      expect(r.status).to.equal(400);
      expect(r.body.error).to.match(/^exceeded maximum resolution of 11,000 points per timeseries/);
      r = await get('/api/v1/query_range?query=up&start=0&end=11000&step=1');
      expect(r.status).to.equal(200);
      r = await get('/api/v1/query_range?query=up&start=0&end=11000.5&step=1'); // whole steps count, as in Go
      expect(r.status).to.equal(200);
      r = await get('/api/v1/query_range?query=up&start=0&end=10&step=0');
      expect(r.status).to.equal(400);
      r = await get(`/api/v1/query_range?query=${enc('up[5m]')}&start=0&end=10&step=1`);
      expect(r.status).to.equal(400);
      expect(r.body.error).to.match(/invalid expression type "range vector" for range query/);
    });
  });

  describe('/api/v1/series', () => {
    it('unions and de-duplicates several match[] selectors', async () => {
      const { status, body } = await get(`/api/v1/series?match[]=${enc('up{job="api"}')}&match[]=${enc('{job="api"}')}`);
      expect(status).to.equal(200);
      expect(body.data).to.have.deep.members([
        { __name__: 'requests_total', job: 'api', path: '/x&y' },
        { __name__: 'up', instance: 'c', job: 'api' },
      ]);
      expect(body.data).to.have.length(2);
    });

    it('needs match[], and a matcher that rejects the empty string', async () => {
      let r = await get('/api/v1/series');
      expect([r.status, r.body.error]).to.deep.equal([400, 'no match[] parameter provided']);
      r = await get(`/api/v1/series?match[]=${enc('{job=~".*"}')}`);
      expect([r.status, r.body.error]).to.deep.equal([400, 'invalid parameter "match[]": match[] must contain at least one non-empty matcher']);
      r = await get(`/api/v1/series?match[]=${enc('up{')}`);
      expect(r.status).to.equal(400);
      expect(r.body.errorType).to.equal('bad_data');
    });

    it('cuts at limit with a warning', async () => {
      const { body } = await get(`/api/v1/series?match[]=up&limit=2`);
      expect(body.data).to.have.length(2);
      expect(body.warnings).to.deep.equal(['results truncated due to limit']);
    });
  });

  describe('/api/v1/labels and /api/v1/label/:name/values', () => {
    it('lists sorted label names, filtered by match[]', async () => {
      expect((await get('/api/v1/labels')).body.data).to.deep.equal(['__name__', 'instance', 'job', 'path']);
      expect((await get(`/api/v1/labels?match[]=requests_total`)).body.data).to.deep.equal(['__name__', 'job', 'path']);
      const post = await envelope(await api.postForm('/api/v1/labels', `match[]=requests_total`));
      expect(post.body.data).to.deep.equal(['__name__', 'job', 'path']);
    });

    it('lists sorted values, [] for an unknown name, and validates the name', async () => {
      expect((await get('/api/v1/label/__name__/values?limit=40000')).body.data).to.deep.equal(['requests_total', 'up']);
      expect((await get(`/api/v1/label/instance/values?match[]=${enc('up{job="node"}')}`)).body.data).to.deep.equal(['a', 'b']);
      expect((await get('/api/v1/label/nope/values')).body.data).to.deep.equal([]);
      const r = await get('/api/v1/label/1bad/values');
      expect([r.status, r.body.error]).to.deep.equal([400, 'invalid label name: "1bad"']);
    });
  });

  describe('/api/v1/metadata', () => {
    it('answers per metric and honours metric and limit', async () => {
      expect((await get('/api/v1/metadata')).body.data).to.deep.equal({
        up: [{ type: 'gauge', help: 'Whether the target is up.', unit: '' }],
        requests_total: [{ type: 'counter', help: 'Requests.', unit: 'requests' }],
      });
      expect((await get('/api/v1/metadata?metric=up')).body.data).to.have.keys(['up']);
      expect(Object.keys((await get('/api/v1/metadata?limit=1')).body.data as object)).to.have.length(1);
      expect((await get('/api/v1/metadata?limit=0')).body.data).to.deep.equal({});
      const r = await get('/api/v1/metadata?limit=x');
      expect([r.status, r.body.error]).to.deep.equal([400, 'limit must be a number']);
    });
  });

  describe('exemplars and format_query', () => {
    it('answers exemplars with an empty list, or 204 for a query without selectors', async () => {
      const start = Date.now();
      expect((await get(`/api/v1/query_exemplars?query=test&start=${start}&end=${start + 1000}`)).body).to.deep.equal({
        status: 'success',
        data: [],
      });
      expect((await api.get('/api/v1/query_exemplars?query=1')).status).to.equal(204);
    });

    it('formats a query and reports parse errors as bad_data', async () => {
      const { body } = await get(`/api/v1/format_query?query=${enc('sum(rate(x[5m]))by(job)')}`);
      expect(body.status).to.equal('success');
      expect(body.data).to.be.a('string').and.match(/^sum by \(job\) \(rate\(x\[5m\]\)\)$/);
      const r = await get(`/api/v1/format_query?query=${enc('sum(')}`);
      expect(r.status).to.equal(400);
    });
  });

  describe('status, targets, rules, alerts', () => {
    it('answers buildinfo as a Prometheus 2.42 without Mimir features', async () => {
      const { body } = await get('/api/v1/status/buildinfo');
      const data = body.data as Record<string, unknown>;
      expect(data['version']).to.equal('2.42.0');
      expect(data).to.include.keys(['revision', 'branch', 'buildUser', 'buildDate', 'goVersion']);
      expect(data).to.not.have.any.keys(['features', 'application']);
    });

    it('answers config, flags, runtimeinfo and tsdb in Prometheus shapes', async () => {
      expect((await get('/api/v1/status/config')).body.data).to.deep.equal({ yaml: TEST_INFO.configYaml });
      expect((await get('/api/v1/status/flags')).body.data).to.deep.equal(TEST_INFO.flags);
      const runtime = (await get('/api/v1/status/runtimeinfo')).body.data as Record<string, unknown>;
      expect(runtime['startTime']).to.equal('2024-01-01T00:00:00.000Z');
      expect(runtime['storageRetention']).to.equal('15d');
      const tsdb = (await get('/api/v1/status/tsdb')).body.data as {
        headStats: { numSeries: number };
        seriesCountByMetricName: { name: string; value: number }[];
      };
      expect(tsdb.headStats.numSeries).to.equal(4);
      expect(tsdb.seriesCountByMetricName).to.deep.include({ name: 'up', value: 3 });
      expect((await get('/api/v1/status/tsdb?limit=0')).status).to.equal(400);
    });

    it('answers targets, rules, alerts and the other scrape-side endpoints empty but well formed', async () => {
      expect((await get('/api/v1/targets')).body.data).to.deep.equal({ activeTargets: [], droppedTargets: [] });
      expect((await get('/api/v1/rules?type=alert')).body.data).to.deep.equal({ groups: [] });
      expect((await get('/api/v1/alerts')).body.data).to.deep.equal({ alerts: [] });
      expect((await get('/api/v1/targets/metadata')).body.data).to.deep.equal([]);
      expect((await get('/api/v1/scrape_pools')).body.data).to.deep.equal({ scrapePools: [] });
      expect((await get('/api/v1/alertmanagers')).body.data).to.deep.equal({ activeAlertmanagers: [], droppedAlertmanagers: [] });
      expect((await get('/api/v1/status/walreplay')).body.data).to.deep.equal({ min: 0, max: 0, current: 0 });
      const r = await get('/api/v1/rules?type=bogus');
      expect([r.status, r.body.error]).to.deep.equal([400, 'invalid parameter "type": not supported value "bogus"']);
    });
  });

  describe('/api/v1/admin/tsdb/delete_series', () => {
    it('needs match[] and really deletes the series', async () => {
      const missing = await envelope(await api.postForm('/api/v1/admin/tsdb/delete_series', ''));
      expect([missing.status, missing.body.error]).to.deep.equal([400, 'no match[] parameter provided']);
      const res = await api.postForm('/api/v1/admin/tsdb/delete_series', `match[]=${enc('up{instance="c"}')}`);
      expect(res.status).to.equal(204);
      expect(await res.text()).to.equal('');
      // The series API may still list today's index entries (start/end are approximate there, as in
      // Prometheus); the samples are what must be gone.
      const t = (T0 + 5 * 60_000) / 1000;
      const gone = await get(`/api/v1/query?query=${enc('up{instance="c"}')}&time=${t}`);
      expect(gone.body.data).to.deep.equal({ resultType: 'vector', result: [] });
      const q = await get(`/api/v1/query?query=${enc('count(up)')}&time=${t}`);
      expect(q.body.data).to.deep.equal({ resultType: 'vector', result: [{ metric: {}, value: [t, '2'] }] });
    });
  });
});

import { expect } from 'chai';
import type { ApiDeps } from '../../src/api/deps.js';
import type { Labels } from '../../src/model/labels.js';
import type { QueryOutcome } from '../../src/promql/types.js';
import { RecordingStorage, ScriptedEngine, simplePromql } from './fakes.js';
import { envelope, TEST_INFO, TestApi } from './harness.js';

const up = (job: string): Labels => [
  { name: '__name__', value: 'up' },
  { name: 'job', value: job },
];

const BIG_SERIES = 300;
const BIG_POINTS = 400;

const OUTCOMES: Record<string, QueryOutcome> = {
  scalar: { result: { resultType: 'scalar', t: 4000, v: 2 }, warnings: [] },
  hugeScalar: { result: { resultType: 'scalar', t: 1500, v: 1e21 }, warnings: [] },
  string: { result: { resultType: 'string', t: 1500, value: 'a<b' }, warnings: [] },
  vector: {
    result: {
      resultType: 'vector',
      samples: [
        { labels: up('a'), t: 1435781451050, v: 1e-7 },
        { labels: [], t: 1435781451050, v: -Infinity },
      ],
    },
    warnings: ['something odd'],
  },
  matrix: {
    result: {
      resultType: 'matrix',
      series: [
        { labels: up('a'), timestamps: new Float64Array([0, 15000]), values: new Float64Array([NaN, 0.5]) },
        { labels: up('empty'), timestamps: new Float64Array([]), values: new Float64Array([]) },
        { labels: up('b'), timestamps: new Float64Array([-500]), values: new Float64Array([-0]) },
      ],
    },
    warnings: [],
  },
  bigVector: {
    result: {
      resultType: 'vector',
      samples: Array.from({ length: 5000 }, (_, i) => ({ labels: up(`job-${String(i).padStart(5, '0')}`), t: 1500, v: i / 8 })),
    },
    warnings: [],
  },
  big: {
    result: {
      resultType: 'matrix',
      series: Array.from({ length: BIG_SERIES }, (_, s) => ({
        labels: up(`job-${String(s).padStart(4, '0')}`),
        timestamps: Float64Array.from({ length: BIG_POINTS }, (_, i) => i * 15_000),
        values: Float64Array.from({ length: BIG_POINTS }, (_, i) => s + i / 4),
      })),
    },
    warnings: [],
  },
};

describe('api query encoding and parameters', () => {
  let api: TestApi;
  let engine: ScriptedEngine;
  before(async () => {
    engine = new ScriptedEngine((query) => {
      const outcome = OUTCOMES[query];
      if (!outcome) throw new Error(`unscripted query ${query}`);
      return outcome;
    });
    const deps: ApiDeps = {
      storage: new RecordingStorage(),
      engine,
      promql: simplePromql,
      info: TEST_INFO,
      queryTimeoutMs: 120_000,
      maxFormBodyBytes: 1 << 20,
      nowMs: () => 1_700_000_000_123,
      logError: () => undefined,
    };
    api = await TestApi.start(deps);
  });
  after(() => api.close());

  it('writes each result type byte for byte as Prometheus does', async () => {
    const text = async (q: string): Promise<string> => (await api.get(`/api/v1/query?query=${q}&time=4`)).text();
    expect(await text('scalar')).to.equal('{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}');
    expect(await text('hugeScalar')).to.equal(
      '{"status":"success","data":{"resultType":"scalar","result":[1.5,"1000000000000000000000"]}}',
    );
    expect(await text('string')).to.equal('{"status":"success","data":{"resultType":"string","result":[1.5,"a\\u003cb"]}}');
    expect(await text('vector')).to.equal(
      '{"status":"success","data":{"resultType":"vector","result":[' +
        '{"metric":{"__name__":"up","job":"a"},"value":[1435781451.050,"1e-07"]},' +
        '{"metric":{},"value":[1435781451.050,"-Inf"]}]},"warnings":["something odd"]}',
    );
    expect(await text('matrix')).to.equal(
      '{"status":"success","data":{"resultType":"matrix","result":[' +
        '{"metric":{"__name__":"up","job":"a"},"values":[[0,"NaN"],[15,"0.5"]]},' +
        '{"metric":{"__name__":"up","job":"b"},"values":[[-0.500,"-0"]]}]}}',
    );
  });

  it('streams a large matrix, gzipped when asked, that parses back to the same numbers', async () => {
    const plain = await api.get('/api/v1/query_range?query=big&start=0&end=6000&step=15', {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.headers.get('content-encoding')).to.equal(null);
    const plainText = await plain.text();
    const res = await api.get('/api/v1/query_range?query=big&start=0&end=6000&step=15', {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-encoding')).to.equal('gzip');
    expect(await res.clone().text()).to.equal(plainText);
    const body = (await res.json()) as { data: { result: { metric: { job: string }; values: [number, string][] }[] } };
    expect(body.data.result).to.have.length(BIG_SERIES);
    const last = body.data.result[BIG_SERIES - 1]!;
    expect(last.metric.job).to.equal(`job-${String(BIG_SERIES - 1).padStart(4, '0')}`);
    expect(last.values).to.have.length(BIG_POINTS);
    expect(last.values[BIG_POINTS - 1]).to.deep.equal([((BIG_POINTS - 1) * 15_000) / 1000, String(BIG_SERIES - 1 + (BIG_POINTS - 1) / 4)]);
  });

  it('streams a large vector in several chunks without losing or splitting samples', async () => {
    const res = await api.get('/api/v1/query?query=bigVector&time=1.5');
    const body = (await res.json()) as { data: { result: { metric: { job: string }; value: [number, string] }[] } };
    expect(body.data.result).to.have.length(5000);
    body.data.result.forEach((s, i) => {
      expect(s.metric.job).to.equal(`job-${String(i).padStart(5, '0')}`);
      expect(s.value).to.deep.equal([1.5, String(i / 8)]);
    });
  });

  it('passes time, range, timeout (only shortening) and lookback_delta to the engine', async () => {
    engine.calls.length = 0;
    await api.get('/api/v1/query?query=scalar');
    await api.get('/api/v1/query?query=scalar&time=2015-07-01T20:10:51.781Z&timeout=30s&lookback_delta=1m');
    await api.get('/api/v1/query?query=scalar&timeout=1h&lookback_delta=0');
    await api.get('/api/v1/query_range?query=scalar&start=10&end=20.5&step=0.5');
    const [now, explicit, capped, range] = engine.calls;
    expect(now!.args).to.deep.equal([1_700_000_000_123]);
    expect(explicit!.args).to.deep.equal([1435781451781]);
    expect(explicit!.options?.timeoutMs).to.equal(30_000);
    expect(explicit!.options?.lookbackDeltaMs).to.equal(60_000);
    expect(capped!.options?.timeoutMs).to.equal(120_000);
    expect(capped!.options?.lookbackDeltaMs).to.equal(undefined);
    expect(range!.kind).to.equal('range');
    expect(range!.args).to.deep.equal([10_000, 20_500, 500]);
    expect(range!.options?.signal).to.be.instanceOf(AbortSignal);
  });

  it('rejects bad timeout and lookback_delta values with Prometheus texts', async () => {
    let r = await envelope(await api.get('/api/v1/query?query=scalar&timeout=soon'));
    expect(r.status).to.equal(400);
    expect(r.body.error).to.equal('invalid parameter "timeout": cannot parse "soon" to a valid duration');
    r = await envelope(await api.get('/api/v1/query?query=scalar&lookback_delta=x'));
    expect(r.status).to.equal(400);
    expect(r.body.error).to.equal('error parsing lookback delta duration: cannot parse "x" to a valid duration');
  });

  it('answers GET and form POST identically, with body values taking precedence', async () => {
    const viaGet = await (await api.get('/api/v1/query?query=vector&time=4')).text();
    const viaPost = await (await api.postForm('/api/v1/query', 'query=vector&time=4')).text();
    const mixed = await (await api.postForm('/api/v1/query?query=scalar', 'query=vector&time=4')).text();
    expect(viaPost).to.equal(viaGet);
    expect(mixed).to.equal(viaGet);
  });

  it('truncates to limit with the warning of newer Prometheus versions', async () => {
    const { body } = await envelope(await api.get('/api/v1/query_range?query=big&start=0&end=60&step=15&limit=2'));
    const data = body.data as { result: unknown[] };
    expect(data.result).to.have.length(2);
    expect(body.warnings).to.deep.equal(['results truncated due to limit']);
  });
});

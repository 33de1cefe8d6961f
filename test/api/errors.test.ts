import { expect } from 'chai';
import type { ApiDeps } from '../../src/api/deps.js';
import { HTTP_STATUS_BY_ERROR_TYPE } from '../../src/api/respond.js';
import type { ErrorType } from '../../src/errors.js';
import { MetricstorError } from '../../src/errors.js';
import { RecordingStorage, ScriptedEngine, simplePromql } from './fakes.js';
import { envelope, TEST_INFO, TestApi } from './harness.js';

const ERROR_TYPES = Object.keys(HTTP_STATUS_BY_ERROR_TYPE) as ErrorType[];

describe('api error funnel', () => {
  let api: TestApi;
  const storage = new RecordingStorage();
  let slowQuerySignal: AbortSignal | undefined;
  before(async () => {
    const engine = new ScriptedEngine((query, options) => {
      if (query === 'slow') {
        slowQuerySignal = options?.signal;
        return new Promise((_resolve, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal?.reason)));
      }
      if (ERROR_TYPES.includes(query as ErrorType)) throw new MetricstorError(query as ErrorType, `failed with ${query}`);
      if (query === 'bug') throw new TypeError('x is not a function');
      return { result: { resultType: 'scalar', t: 0, v: 1 }, warnings: [] };
    });
    const deps: ApiDeps = {
      storage,
      engine,
      promql: simplePromql,
      info: TEST_INFO,
      queryTimeoutMs: 120_000,
      maxFormBodyBytes: 1024,
      nowMs: () => 1_000_000,
      logError: () => undefined,
    };
    api = await TestApi.start(deps);
  });
  after(() => api.close());

  it('maps every error type to its status with the JSON envelope', async () => {
    const expected: Record<ErrorType, number> = {
      bad_data: 400,
      execution: 422,
      timeout: 503,
      canceled: 503,
      unavailable: 503,
      not_found: 404,
      internal: 500,
      too_large: 413,
      unsupported_media_type: 415,
      overloaded: 429,
      forbidden: 403,
      unauthorized: 401,
    };
    for (const type of ERROR_TYPES) {
      // range queries pass engine errors through unchanged
      const res = await api.get(`/api/v1/query_range?query=${type}&start=0&end=10&step=1`);
      const { status, body } = await envelope(res);
      expect(status, type).to.equal(expected[type]);
      expect(body).to.deep.equal({ status: 'error', errorType: type, error: `failed with ${type}` });
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      if (type === 'overloaded') expect(res.headers.get('retry-after')).to.equal('1');
    }
  });

  it('turns an unexpected exception into internal/500 without a stack trace', async () => {
    const { status, body } = await envelope(await api.get('/api/v1/query?query=bug'));
    expect(status).to.equal(500);
    expect(body).to.deep.equal({ status: 'error', errorType: 'internal', error: 'x is not a function' });
  });

  it('prefixes instant-query bad_data errors with the query parameter, as Prometheus does', async () => {
    const { status, body } = await envelope(await api.get('/api/v1/query?query=bad_data'));
    expect(status).to.equal(400);
    expect(body.error).to.equal('invalid parameter "query": failed with bad_data');
  });

  it('answers unknown paths with 404 not_found in the envelope', async () => {
    const { status, body } = await envelope(await api.get('/api/v1/nope'));
    expect(status).to.equal(404);
    expect(body.status).to.equal('error');
    expect(body.errorType).to.equal('not_found');
    expect(body.error).to.match(/\/api\/v1\/nope/);
  });

  it('answers a wrong method with 405 and Allow, so clients retry with GET', async () => {
    const res = await api.postForm('/api/v1/label/job/values', '');
    expect(res.status).to.equal(405);
    expect(res.headers.get('allow')).to.equal('GET');
    expect((await envelope(res)).body.status).to.equal('error');
  });

  it('answers CORS preflight requests on API paths', async () => {
    const res = await api.get('/api/v1/query', { method: 'OPTIONS' });
    expect(res.status).to.equal(204);
    expect(res.headers.get('access-control-allow-origin')).to.equal('*');
    expect(res.headers.get('access-control-allow-methods')).to.equal('GET, POST, OPTIONS');
    expect((await api.get('/api/v1/query?query=x&time=1')).headers.get('access-control-allow-origin')).to.equal('*');
  });

  it('refuses a form body above the limit with 413 too_large', async () => {
    const { status, body } = await envelope(await api.postForm('/api/v1/query', `query=${'x'.repeat(2000)}`));
    expect(status).to.equal(413);
    expect(body.errorType).to.equal('too_large');
  });

  it('aborts the engine\'s work when the client goes away', async () => {
    const client = new AbortController();
    const pending = api.get('/api/v1/query?query=slow', { signal: client.signal }).catch(() => 'aborted');
    const deadline = Date.now() + 5000;
    while (slowQuerySignal === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(slowQuerySignal?.aborted).to.equal(false);
    client.abort();
    expect(await pending).to.equal('aborted');
    while (!slowQuerySignal?.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(slowQuerySignal?.aborted).to.equal(true);
  });

  it('reports readiness from storage.ready()', async () => {
    storage.isReady = true;
    expect((await api.get('/-/ready')).status).to.equal(200);
    storage.isReady = false;
    const res = await api.get('/-/ready');
    expect(res.status).to.equal(503);
    storage.isReady = true;
    const healthy = await api.get('/-/healthy', { method: 'HEAD' });
    expect(healthy.status).to.equal(200);
  });
});

describe('api graceful close', () => {
  it('finishes an in-flight query, then refuses new connections', async () => {
    let release: (() => void) | undefined;
    let deps: ApiDeps | undefined;
    const started = new Promise<void>((resolveStarted) => {
      const engine = new ScriptedEngine(
        () =>
          new Promise((resolve) => {
            release = () => resolve({ result: { resultType: 'scalar', t: 0, v: 7 }, warnings: [] });
            resolveStarted();
          }),
      );
      deps = {
        storage: new RecordingStorage(),
        engine,
        promql: simplePromql,
        info: TEST_INFO,
        queryTimeoutMs: 1000,
        maxFormBodyBytes: 1024,
        nowMs: () => 0,
        logError: () => undefined,
      };
    });
    const api = await TestApi.start(deps!);
    const inFlight = api.get('/api/v1/query?query=x&time=0');
    await started;
    const closed = api.close();
    release!();
    const res = await inFlight;
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('{"status":"success","data":{"resultType":"scalar","result":[0,"7"]}}');
    await closed;
    const after = await api.get('/-/healthy').then(
      () => 'answered',
      () => 'refused',
    );
    expect(after).to.equal('refused');
  });
});

/**
 * The gRPC API over a real socket: every call answers what the HTTP endpoint of the same name
 * answers for the same data, errors carry the mapped status codes, deadlines are honoured.
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MetricstorError, type ErrorType } from '../../src/errors.js';
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
  type HealthCheckResponse,
} from '../../src/generated/metricstor/grpc/health/v1/health.js';
import {
  MetricstorQueryClient,
  type QueryResponse,
} from '../../src/generated/metricstor/metricstor/v1/query.js';
import { GRPC_STATUS_BY_ERROR_TYPE, toServiceError } from '../../src/grpc/status.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { generateSeries, pushRemoteWrite } from '../api/push.js';
import { tempDir } from '../helpers/tmp.js';

const STEP_MS = 15_000;
const END_MS = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
const MID_MS = END_MS - 12 * 60_000 + 7_500;

type Unary<Req, Res> = (req: Req, metadata: Metadata, options: { deadline?: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(fn: Unary<Req, Res>, self: object, req: Req, deadlineMs?: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    fn.call(self, req, new Metadata(), options, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call succeeded');
}

/** Prometheus's JSON sample value back to a number. */
function jsonValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

interface JsonVectorItem {
  metric: Record<string, string>;
  value: [number, string];
}
interface JsonMatrixItem {
  metric: Record<string, string>;
  values: [number, string][];
}
type JsonData =
  | { resultType: 'scalar' | 'string'; result: [number, string] }
  | { resultType: 'vector'; result: JsonVectorItem[] }
  | { resultType: 'matrix'; result: JsonMatrixItem[] };

const labelObject = (labels: { name: string; value: string }[]): Record<string, string> =>
  Object.fromEntries(labels.map((l) => [l.name, l.value]));

/** The gRPC answer in the HTTP answer's JSON shape, values as numbers on both sides. */
function normalise(g: QueryResponse): unknown {
  if (g.scalar) return { resultType: 'scalar', result: [g.scalar.timestampMs, g.scalar.value] };
  if (g.string) return { resultType: 'string', result: [g.string.timestampMs, g.string.value] };
  if (g.vector) {
    return {
      resultType: 'vector',
      result: g.vector.samples.map((s) => ({ metric: labelObject(s.labels), value: [s.timestampMs, s.value] })),
    };
  }
  if (g.matrix) {
    return {
      resultType: 'matrix',
      result: g.matrix.series.map((s) => ({
        metric: labelObject(s.labels),
        values: s.timestampsMs.map((t, i) => [t, s.values[i]]),
      })),
    };
  }
  return null;
}

function normaliseJson(d: JsonData): unknown {
  const ms = (t: number): number => Math.round(t * 1000);
  switch (d.resultType) {
    case 'scalar':
      return { resultType: 'scalar', result: [ms(d.result[0]), jsonValue(d.result[1])] };
    case 'string':
      return { resultType: 'string', result: [ms(d.result[0]), d.result[1]] };
    case 'vector':
      return { resultType: 'vector', result: d.result.map((s) => ({ metric: s.metric, value: [ms(s.value[0]), jsonValue(s.value[1])] })) };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: d.result.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [ms(t), jsonValue(v)]) })),
      };
  }
}

describe('gRPC API (metricstor.v1.MetricstorQuery)', function () {
  this.timeout(30_000);
  let server: RunningServer;
  let client: MetricstorQueryClient;
  let health: HealthClient;
  let base = '';

  async function http(path: string): Promise<{ status: string; data?: unknown; warnings?: string[]; errorType?: string; error?: string }> {
    return (await (await fetch(`${base}${path}`)).json()) as { status: string; data?: unknown };
  }

  before(async () => {
    server = await startServer(testConfig(await tempDir('grpc')));
    base = `http://${server.httpAddress}`;
    await pushRemoteWrite(base, generateSeries(END_MS, 121, STEP_MS));
    expect(server.grpcAddress).to.match(/^127\.0\.0\.1:\d+$/);
    client = new MetricstorQueryClient(server.grpcAddress, credentials.createInsecure());
    health = new HealthClient(server.grpcAddress, credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    health?.close();
    await server?.close();
  });

  const INSTANT = [
    ['up', END_MS],
    ['rate(node_cpu_seconds_total[5m])', MID_MS],
    ['node_load1[1m]', MID_MS],
    ['scalar(sum(up)) * 1e-9', END_MS],
    ['"a<b>&c"', MID_MS],
    ['node_load1 / 0 - 1', END_MS],
    ['sum by (code) (http_requests_total)', END_MS],
  ] as const;

  for (const [expr, timeMs] of INSTANT) {
    it(`Query ${expr} equals /api/v1/query`, async () => {
      const g = await call(client.query, client, { query: expr, timeMs, limit: 0 });
      const h = await http(`/api/v1/query?query=${encodeURIComponent(expr)}&time=${timeMs / 1000}`);
      expect(h.status).to.equal('success');
      expect(normalise(g)).to.deep.equal(normaliseJson(h.data as JsonData));
      expect(g.warnings).to.deep.equal(h.warnings ?? []);
    });
  }

  it('Query without a time evaluates now, and limit truncates with the same warning', async () => {
    const g = await call(client.query, client, { query: 'vector(time())', limit: 0 });
    expect(Math.abs(g.vector!.samples[0]!.timestampMs - Date.now())).to.be.lessThan(5_000);
    const cut = await call(client.query, client, { query: 'up', timeMs: END_MS, limit: 2 });
    const h = await http(`/api/v1/query?query=up&time=${END_MS / 1000}&limit=2`);
    expect(normalise(cut)).to.deep.equal(normaliseJson(h.data as JsonData));
    expect(cut.warnings).to.deep.equal(h.warnings).and.to.have.length(1);
  });

  for (const expr of ['sum(up)', 'rate(node_cpu_seconds_total{mode="idle"}[2m])', 'batch_last_success']) {
    it(`QueryRange ${expr} equals /api/v1/query_range`, async () => {
      const startMs = END_MS - 20 * 60_000;
      const g = await call(client.queryRange, client, { query: expr, startMs, endMs: END_MS, stepMs: 60_000, limit: 0 });
      const h = await http(`/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${startMs / 1000}&end=${END_MS / 1000}&step=60`);
      expect(h.status).to.equal('success');
      expect(g.matrix!.series.length).to.be.greaterThan(0);
      expect(normalise(g)).to.deep.equal(normaliseJson(h.data as JsonData));
    });
  }

  it('Series, LabelNames and LabelValues equal their HTTP endpoints', async () => {
    const s = await call(client.series, client, { match: ['up', '{job="api"}'], startMs: MID_MS, endMs: END_MS, limit: 0 });
    const hs = await http(`/api/v1/series?match[]=up&match[]=${encodeURIComponent('{job="api"}')}&start=${MID_MS / 1000}&end=${END_MS / 1000}`);
    expect(s.series.map((x) => labelObject(x.labels))).to.deep.equal(hs.data).and.to.have.length(5);
    const n = await call(client.labelNames, client, { match: [], limit: 0 });
    expect(n.names).to.deep.equal((await http('/api/v1/labels')).data);
    const nm = await call(client.labelNames, client, { match: ['up'], limit: 2 });
    const hnm = await http('/api/v1/labels?match[]=up&limit=2');
    expect(nm.names).to.deep.equal(hnm.data);
    expect(nm.warnings).to.deep.equal(hnm.warnings);
    const v = await call(client.labelValues, client, { name: 'instance', match: ['{job="node"}'], limit: 0 });
    expect(v.values).to.deep.equal((await http(`/api/v1/label/instance/values?match[]=${encodeURIComponent('{job="node"}')}`)).data);
    expect(v.values).to.have.length(3);
  });

  it('Stats and BuildInfo equal /api/v1/status/tsdb and /status/buildinfo', async () => {
    const st = await call(client.stats, client, { limit: 3 });
    const hst = (await http('/api/v1/status/tsdb?limit=3')).data as {
      headStats: { numSeries: number; numLabelPairs: number };
      seriesCountByMetricName: unknown;
      labelValueCountByLabelName: unknown;
      seriesCountByLabelValuePair: unknown;
    };
    expect(st.numSeries).to.equal(hst.headStats.numSeries).and.to.be.greaterThan(0);
    expect(st.numLabelPairs).to.equal(hst.headStats.numLabelPairs);
    expect(st.seriesCountByMetricName).to.deep.equal(hst.seriesCountByMetricName);
    expect(st.labelValueCountByLabelName).to.deep.equal(hst.labelValueCountByLabelName);
    expect(st.seriesCountByLabelValuePair).to.deep.equal(hst.seriesCountByLabelValuePair);
    const b = await call(client.buildInfo, client, {});
    const hb = (await http('/api/v1/status/buildinfo')).data as Record<string, string>;
    expect(b).to.deep.equal({
      version: hb['version'],
      revision: hb['revision'],
      branch: hb['branch'],
      buildUser: hb['buildUser'],
      buildDate: hb['buildDate'],
      runtimeVersion: hb['goVersion'],
    });
  });

  it('maps errors to status codes with the HTTP API message', async () => {
    const cases: [() => Promise<unknown>, string, status][] = [
      [() => call(client.query, client, { query: 'sum(', limit: 0 }), `/api/v1/query?query=${encodeURIComponent('sum(')}`, status.INVALID_ARGUMENT],
      [
        () => call(client.query, client, { query: 'up * on(instance) node_cpu_seconds_total', timeMs: END_MS, limit: 0 }),
        `/api/v1/query?query=${encodeURIComponent('up * on(instance) node_cpu_seconds_total')}&time=${END_MS / 1000}`,
        status.FAILED_PRECONDITION,
      ],
      [
        () => call(client.queryRange, client, { query: 'up', startMs: END_MS, endMs: MID_MS, stepMs: 60_000, limit: 0 }),
        `/api/v1/query_range?query=up&start=${END_MS / 1000}&end=${MID_MS / 1000}&step=60`,
        status.INVALID_ARGUMENT,
      ],
      [() => call(client.series, client, { match: [], limit: 0 }), '/api/v1/series', status.INVALID_ARGUMENT],
      [() => call(client.labelValues, client, { name: '1x', match: [], limit: 0 }), '/api/v1/label/1x/values', status.INVALID_ARGUMENT],
      [() => call(client.stats, client, { limit: 20_000 }), '/api/v1/status/tsdb?limit=20000', status.INVALID_ARGUMENT],
    ];
    for (const [start, path, code] of cases) {
      const err = await failure(start());
      const h = await http(path);
      expect(h.status, path).to.equal('error');
      expect(err.code, path).to.equal(code);
      expect(err.details, path).to.equal(h.error);
      expect(err.metadata.get('metricstor-error-type'), path).to.deep.equal([h.errorType]);
    }
  });

  it('has one status for every error type, and non-Metricstor errors are INTERNAL', () => {
    const expected: Partial<Record<ErrorType, status>> = {
      bad_data: status.INVALID_ARGUMENT,
      timeout: status.DEADLINE_EXCEEDED,
      unavailable: status.UNAVAILABLE,
      not_found: status.NOT_FOUND,
      internal: status.INTERNAL,
      canceled: status.CANCELLED,
      overloaded: status.RESOURCE_EXHAUSTED,
    };
    for (const [type, code] of Object.entries(expected)) {
      expect(toServiceError(new MetricstorError(type as ErrorType, 'x')).code, type).to.equal(code);
    }
    expect(Object.values(GRPC_STATUS_BY_ERROR_TYPE).every((c) => c !== status.OK && c !== status.UNKNOWN)).to.equal(true);
    expect(toServiceError(new Error('boom')).code).to.equal(status.INTERNAL);
  });

  const HEAVY = 'count_over_time(node_cpu_seconds_total[24h:100ms])';

  it('honours the call deadline: a heavy query ends DEADLINE_EXCEEDED quickly', async () => {
    const t0 = Date.now();
    const err = await failure(call(client.query, client, { query: HEAVY, timeMs: END_MS, limit: 0 }, 60));
    expect(err.code).to.equal(status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).to.be.lessThan(3_000);
    // the server is free again at once: a light call answers
    const ok = await call(client.query, client, { query: '1', limit: 0 }, 2_000);
    expect(ok.scalar!.value).to.equal(1);
  });

  it('a timeout_ms in the request stops the query on the server with DEADLINE_EXCEEDED', async () => {
    const t0 = Date.now();
    const err = await failure(call(client.query, client, { query: HEAVY, timeMs: END_MS, timeoutMs: 20, limit: 0 }));
    expect(err.code).to.equal(status.DEADLINE_EXCEEDED);
    expect(err.metadata.get('metricstor-error-type')).to.deep.equal(['timeout']);
    expect(err.details).to.equal((await http(`/api/v1/query?query=${encodeURIComponent(HEAVY)}&time=${END_MS / 1000}&timeout=0.02`)).error);
    expect(Date.now() - t0).to.be.lessThan(5_000);
  });

  it('Health answers healthy and ready as /-/healthy and /-/ready do', async () => {
    const h = await call(client.health, client, {});
    expect((await fetch(`${base}/-/healthy`)).status).to.equal(200);
    expect((await fetch(`${base}/-/ready`)).status).to.equal(200);
    expect(h).to.deep.equal({ healthy: true, ready: true });
  });

  it('grpc.health.v1: Check answers SERVING, unknown services NOT_FOUND, Watch streams the status', async () => {
    const ok = await call(health.check, health, { service: '' });
    expect(ok.status).to.equal(HealthCheckResponse_ServingStatus.SERVING);
    const named = await call(health.check, health, { service: 'metricstor.v1.MetricstorQuery' });
    expect(named.status).to.equal(HealthCheckResponse_ServingStatus.SERVING);
    const err = await failure(call(health.check, health, { service: 'nope' }));
    expect(err.code).to.equal(status.NOT_FOUND);
    const stream = health.watch({ service: '' });
    const first = await new Promise<HealthCheckResponse>((resolve, reject) => {
      stream.once('data', resolve);
      stream.once('error', reject);
    });
    expect(first.status).to.equal(HealthCheckResponse_ServingStatus.SERVING);
    stream.on('error', () => undefined); // the cancel below surfaces as a CANCELLED error
    stream.cancel();
  });

  // Runs last: it closes the storage under the running listeners.
  it('reports not ready, in both health services, once the storage is closed', async () => {
    await server.storage.close();
    expect(await call(client.health, client, {})).to.deep.equal({ healthy: true, ready: false });
    expect((await call(health.check, health, { service: '' })).status).to.equal(HealthCheckResponse_ServingStatus.NOT_SERVING);
    expect((await fetch(`${base}/-/ready`)).status).to.equal(503);
  });
});

import net from 'node:net';
import { expect } from 'chai';
import { assertHealthy, Outcomes, prng, report, rssMiB, startFuzzServer, type FuzzServer } from './harness.js';

const NASTY_VALUES = [
  '', ' ', 'abc', 'NaN', 'Inf', '-Inf', '+Inf', '1e400', '-1e400', '1e-400', '0', '-1', '1.5', '0x10', '9'.repeat(400),
  '2023-13-45T25:61:00Z', '2023-01-01T00:00:00Z', '2023-01-01T00:00:00.123456789+14:00', '1y', '5m', '1ms', '0s', '-5m',
  '99999999999999999999y', '1e20', '-9223372036854775808', '9223372036854775807', '%00', '\u0000', '😀', '\ud800',
  '1h30m', '1.5e3', '.5', '5.', '1_000', 'null', 'undefined', '[]', '{}',
];
const NASTY_SELECTORS = [
  'up', '{job="x"}', '{}', '{job=""}', '{__name__=~".*"}', 'up{', '}', '{a=~"("}', '{a=~"(a+)+b"}', 'up[5m]', 'sum(up)', '1',
  '{a="\\xff"}', `{a="${'x'.repeat(5000)}"}`, '{a!~".+"}', 'up offset 5m', '{__name__=""}', '😀', '{"a"="b"}', ' ',
];
const ENDPOINTS: readonly { path: string; params: readonly string[] }[] = [
  { path: '/api/v1/query', params: ['query', 'time', 'timeout', 'lookback_delta', 'limit'] },
  { path: '/api/v1/query_range', params: ['query', 'start', 'end', 'step', 'timeout'] },
  { path: '/api/v1/series', params: ['match[]', 'start', 'end', 'limit'] },
  { path: '/api/v1/labels', params: ['match[]', 'start', 'end'] },
  { path: '/api/v1/label/job/values', params: ['match[]', 'start', 'end'] },
  { path: '/api/v1/query_exemplars', params: ['query', 'start', 'end'] },
  { path: '/api/v1/format_query', params: ['query'] },
  { path: '/api/v1/metadata', params: ['metric', 'limit'] },
  { path: '/api/v1/status/tsdb', params: ['limit'] },
];

describe('fuzz: HTTP parameters, slow and oversized requests', function () {
  this.timeout(40_000);
  let fuzz: FuzzServer;
  before(async () => {
    fuzz = await startFuzzServer({ timeoutMs: 5_000 });
  });
  after(async () => {
    await fuzz.close();
  });

  it('answers invalid times, steps, durations and match[] selectors with a 4xx and a message', async () => {
    const rssBefore = rssMiB();
    const rand = prng(0x9a7a);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const outcomes = new Outcomes();
    const deadline = Date.now() + 12_000;
    for (let i = 0; i < 600 && Date.now() < deadline; i++) {
      const endpoint = pick(ENDPOINTS);
      const params = new URLSearchParams();
      for (const name of endpoint.params) {
        if (rand() < 0.3) continue;
        const value = name === 'query' || name === 'match[]' ? pick(NASTY_SELECTORS) : pick(NASTY_VALUES);
        params.append(name, value);
        if (name === 'match[]' && rand() < 0.3) params.append(name, pick(NASTY_SELECTORS));
      }
      const usePost = rand() < 0.5 && endpoint.path !== '/api/v1/label/job/values' && endpoint.path !== '/api/v1/metadata' && endpoint.path !== '/api/v1/status/tsdb';
      const res = usePost
        ? await fetch(`${fuzz.base}${endpoint.path}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: params.toString(),
            signal: AbortSignal.timeout(10_000),
          })
        : await fetch(`${fuzz.base}${endpoint.path}?${params}`, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      // A zero `timeout` (e.g. 1e-400 seconds) times the query out at once: 503, as in Prometheus.
      const ownTimeout = res.status === 503 && params.has('timeout') && text.includes('"errorType":"timeout"');
      outcomes.record(res.status, text, `${endpoint.path}?${params.toString().slice(0, 200)}`, ownTimeout);
    }
    // Malformed escapes and methods.
    for (const path of ['/api/v1/label/%ZZ/values', '/api/v1/label/%ff/values', '/api/v1/query?query=%', '/api/v1/nope']) {
      const res = await fetch(`${fuzz.base}${path}`);
      outcomes.record(res.status, await res.text(), path);
    }
    const del = await fetch(`${fuzz.base}/api/v1/query?query=up`, { method: 'DELETE' });
    outcomes.record(del.status, await del.text(), 'DELETE /api/v1/query');
    report('API parameters', outcomes.summary());
    expect(outcomes.failures, fuzz.logged.join('')).to.deep.equal([]);
    expect(outcomes.tried).to.be.greaterThan(200);
    await assertHealthy(fuzz.base);
    expect(rssMiB() - rssBefore).to.be.lessThan(200);
  });

  it('refuses oversized headers, URLs and form bodies with a 4xx', async () => {
    const outcomes = new Outcomes();
    const header = await fetch(`${fuzz.base}/api/v1/labels`, { headers: { 'X-Big': 'x'.repeat(64 * 1024) } }).catch(() => undefined);
    const url = await fetch(`${fuzz.base}/api/v1/query?query=${'1'.repeat(64 * 1024)}`).catch(() => undefined);
    const form = await fetch(`${fuzz.base}/api/v1/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `query=${'1'.repeat(5 * 1024 * 1024)}`,
    }).catch(() => undefined);
    for (const [kind, res] of [['64 KiB header', header], ['64 KiB URL', url], ['5 MiB form body', form]] as const) {
      expect(res, `${kind}: connection failed`).to.not.equal(undefined);
      const text = await res!.text();
      report(kind, `${res!.status} ${text.slice(0, 100)}`);
      outcomes.record(res!.status, res!.status === 431 ? 'header too large' : text, kind);
      expect(res!.status, kind).to.be.within(400, 499);
    }
    expect(outcomes.failures).to.deep.equal([]);
    await assertHealthy(fuzz.base);
  });

  it('cuts off clients that dribble their headers (slowloris) and stays responsive meanwhile', async () => {
    const [host, port] = fuzz.server.httpAddress.split(':') as [string, string];
    const sockets: net.Socket[] = [];
    const closedAtMs: number[] = [];
    const startMs = Date.now();
    for (let i = 0; i < 100; i++) {
      const socket = net.connect(Number(port), host);
      socket.on('error', () => undefined);
      socket.on('close', () => closedAtMs.push(Date.now() - startMs));
      socket.write('GET /-/healthy HTTP/1.1\r\nHost: x\r\n');
      sockets.push(socket);
    }
    const latencies: number[] = [];
    const dribble = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(`X-Slow-${Date.now()}: 1\r\n`);
    }, 500);
    try {
      while (Date.now() - startMs < 14_000 && closedAtMs.length < sockets.length) {
        latencies.push(await assertHealthy(fuzz.base, 1000));
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      clearInterval(dribble);
      for (const s of sockets) s.destroy();
    }
    const maxLatency = Math.max(...latencies);
    report('slowloris (100 sockets)', `all cut off by ${Math.max(...closedAtMs)} ms; /-/healthy max latency ${maxLatency.toFixed(0)} ms over ${latencies.length} probes`);
    expect(closedAtMs.length).to.equal(sockets.length);
    expect(Math.max(...closedAtMs)).to.be.lessThan(13_000);
    expect(maxLatency).to.be.lessThan(1000);
  });
});

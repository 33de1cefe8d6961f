import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { expect } from 'chai';
import { encodeWriteRequest, type PushSeries } from '../../src/promql/testing/remote-write.js';
import { startFuzzServer } from '../fuzz/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { remoteWrite, serve, sleep, type Child } from './serve.js';

const report = (text: string): void => {
  if (process.env.FUZZ_REPORT) process.stdout.write(`      [overload] ${text}\n`);
};

const STEP_MS = 60_000;
const POINTS = 1440;

/** SERIES series of one day at one sample a minute, ending now. */
function dayOfData(series: number, endMs: number): PushSeries[] {
  const timestamps = Array.from({ length: POINTS }, (_, i) => endMs - (POINTS - 1 - i) * STEP_MS);
  return Array.from({ length: series }, (_, s) => ({
    labels: { __name__: 'rel_load', s: String(s), group: String(s % 10) },
    timestamps,
    values: timestamps.map((_, i) => i * (s + 1)),
  }));
}

async function load(url: string, series: PushSeries[]): Promise<void> {
  for (let i = 0; i < series.length; i += 20) {
    const status = await remoteWrite(url, series.slice(i, i + 20), 30_000);
    if (status !== 204) throw new Error(`loading data: ${status}`);
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

describe('overload', function () {
  this.timeout(60_000);
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill();
  });

  it('caps concurrent queries (503 with Retry-After beyond the queue) while /-/healthy and ingestion stay responsive', async () => {
    const server = await serve({
      dataDir: await tempDir('overload-query'),
      env: { METRICSTOR_QUERY_MAX_CONCURRENCY: '2', METRICSTOR_QUERY_MAX_QUEUE: '2' },
    });
    children.push(server.child);
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    await load(server.url, dayOfData(200, endMs));
    const heavy = new URLSearchParams({
      query: 'sum by (group) (rate(rel_load[10m])) / on (group) group_left count by (group) (rel_load)',
      start: String((endMs - 86_400_000) / 1000),
      end: String(endMs / 1000),
      step: '15',
    });
    const single = await timed(() => fetch(`${server.url}/api/v1/query_range?${heavy}`).then((r) => r.status));
    expect(single.value).to.equal(200);

    // 12 heavy queries at once: 2 run, 2 wait, 8 are refused.
    let running = true;
    const healthMs: number[] = [];
    const writeMs: number[] = [];
    const probes = (async () => {
      for (let i = 0; running && i < 1000; i++) {
        healthMs.push((await timed(() => fetch(`${server.url}/-/healthy`).then((r) => r.status))).ms);
        const w = await timed(() =>
          remoteWrite(server.url, [{ labels: { __name__: 'rel_probe' }, timestamps: [endMs + i], values: [i] }]),
        );
        expect(w.value).to.equal(204);
        writeMs.push(w.ms);
        await sleep(50);
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${server.url}/api/v1/query_range?${heavy}`).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), text: await r.text() })),
      ),
    );
    running = false;
    await probes;
    const statuses = answers.map((a) => a.status).sort();
    report(
      `one heavy query alone ${single.ms.toFixed(0)} ms; 12 at once: ${statuses.join(',')}; ` +
        `/-/healthy p50 ${percentile(healthMs, 50).toFixed(0)} ms max ${Math.max(...healthMs).toFixed(0)} ms; ` +
        `1-sample write p50 ${percentile(writeMs, 50).toFixed(0)} ms max ${Math.max(...writeMs).toFixed(0)} ms (${writeMs.length} probes)`,
    );
    // At most 2 run and 2 wait at any moment; requests arrive spread over a few ms, so later ones may find room.
    expect(statuses.every((s) => s === 200 || s === 503), statuses.join()).to.equal(true);
    expect(statuses.filter((s) => s === 200).length).to.be.at.least(4);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).to.be.at.least(1);
    for (const r of refused) {
      expect(r.retryAfter).to.equal('1');
      expect(JSON.parse(r.text)).to.include({ status: 'error', errorType: 'unavailable' });
    }
    expect(healthMs.length).to.be.greaterThan(0);
    // Generous for two loaded cores. Evaluation runs in synchronous chunks (storage reads, then the
    // evaluation itself), so a write that needs several turns of the event loop can wait behind a
    // few of them; see docs/reliability.md.
    expect(Math.max(...healthMs)).to.be.lessThan(Math.max(2000, single.ms * 2));
    expect(Math.max(...writeMs)).to.be.lessThan(Math.max(10_000, single.ms * 6));
  });

  it('answers 429 with Retry-After when the write queue is full, and holds no more than it allows', async () => {
    const server = await serve({
      dataDir: await tempDir('overload-ingest'),
      env: { METRICSTOR_INGEST_MAX_CONCURRENCY: '1', METRICSTOR_INGEST_MAX_QUEUE: '2' },
    });
    children.push(server.child);
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    const bodies = Array.from({ length: 30 }, (_, k) =>
      encodeWriteRequest(
        dayOfData(40, endMs).map((s) => ({ ...s, labels: { ...s.labels, __name__: 'rel_ingest', batch: String(k) } })),
      ),
    );
    const answers = await Promise.all(
      bodies.map((body) =>
        fetch(`${server.url}/api/v1/write`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
          body,
        }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), text: await r.text() })),
      ),
    );
    const counts = new Map<number, number>();
    for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    report(`30 concurrent writes of 57,600 samples, 1 slot + 2 waiting: ${[...counts].map(([s, n]) => `${s}×${n}`).join(', ')}`);
    expect([...counts.keys()].every((s) => s === 204 || s === 429), JSON.stringify([...counts])).to.equal(true);
    expect(counts.get(204) ?? 0).to.be.at.least(3);
    expect(counts.get(429) ?? 0).to.be.at.least(1);
    for (const a of answers.filter((x) => x.status === 429)) {
      expect(a.retryAfter).to.equal('1');
      expect(a.text).to.match(/too many concurrent writes/);
    }
  });

  it('cancels queries that exceed their limits and gives their memory back', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fuzz = await startFuzzServer({ maxSamples: 300_000, timeoutMs: 5_000 });
    try {
      const endMs = Math.floor(Date.now() / 60_000) * 60_000;
      await load(fuzz.base, dayOfData(200, endMs));
      const heapMiB = (): number => {
        gc();
        gc();
        return process.memoryUsage().heapUsed / 1024 / 1024;
      };
      const baseline = heapMiB();
      const range = { start: String((endMs - 86_400_000) / 1000), end: String(endMs / 1000), step: '15' };
      const tooMany = new URLSearchParams({ query: 'rel_load', ...range });
      const tooSlow = new URLSearchParams({ query: 'sum by (group) (rate(rel_load[10m]))', ...range, timeout: '10ms' });
      let peak = 0;
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        const params = i % 2 === 0 ? tooMany : tooSlow;
        const res = await fetch(`${fuzz.base}/api/v1/query_range?${params}`);
        const body = (await res.json()) as { errorType?: string };
        outcomes.push(`${res.status} ${body.errorType ?? ''}`);
        expect(res.status).to.be.oneOf([422, 503]);
        peak = Math.max(peak, process.memoryUsage().heapUsed / 1024 / 1024);
      }
      await sleep(200);
      const after = heapMiB();
      report(`6 queries over their limits (${[...new Set(outcomes)].join(', ')}): heap ${baseline.toFixed(1)} MiB before, ${peak.toFixed(1)} MiB peak, ${after.toFixed(1)} MiB after GC`);
      expect(outcomes.some((o) => o.includes('execution'))).to.equal(true);
      expect(outcomes.some((o) => o.includes('timeout'))).to.equal(true);
      expect(after - baseline).to.be.lessThan(20);
    } finally {
      await fuzz.close();
    }
  });
});

import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { expect } from 'chai';
import { parseCpuSeconds } from '../../bench/compare/proc-stats.js';
import { DEFAULT_WRITE_QUEUE } from '../../src/ingest/write-queue.js';
import { encodeWriteRequest, type PushSeries } from '../../src/promql/testing/remote-write.js';
import { startFuzzServer } from '../fuzz/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { deliverAtOnce } from './at-once.js';
import { remoteWrite, serve, sleep, type Child } from './serve.js';

const report = (text: string): void => {
  if (process.env.FUZZ_REPORT) process.stdout.write(`      [overload] ${text}\n`);
};

const STEP_MS = 60_000;
const POINTS = 1440;
/** How long a probe may go unanswered before it counts as refused; the whole query backlog takes seconds. */
const PROBE_TIMEOUT_MS = 60_000;
/** How long requests sent to a stopped server may take to reach it; local sends take milliseconds. */
const ARRIVAL_TIMEOUT_MS = 30_000;

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

/**
 * CPU milliseconds used so far by the main thread of process `pid`, which in a Node server is the
 * event loop. Other processes on a loaded machine stretch wall-clock time, not this.
 */
function eventLoopCpuMs(pid: number): number {
  return parseCpuSeconds(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')) * 1000;
}

interface Measured<T> {
  readonly value: T;
  readonly ms: number;
  /** Event-loop CPU the server spent while `run` was waiting for it. */
  readonly serverCpuMs: number;
}

async function measured<T>(serverPid: number, run: () => Promise<T>): Promise<Measured<T>> {
  const cpuBefore = eventLoopCpuMs(serverPid);
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start, serverCpuMs: eventLoopCpuMs(serverPid) - cpuBefore };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

describe('overload', function () {
  // Only a bound against hangs: starting a server and loading a day of data take several times
  // longer on a loaded machine. What the tests check does not depend on it.
  this.timeout(180_000);
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
    const pid = server.child.proc.pid!;
    const endMs = Math.floor(Date.now() / 60_000) * 60_000;
    await load(server.url, dayOfData(200, endMs));
    const heavy = new URLSearchParams({
      query: 'sum by (group) (rate(rel_load[10m])) / on (group) group_left count by (group) (rel_load)',
      start: String((endMs - 86_400_000) / 1000),
      end: String(endMs / 1000),
      step: '15',
    });
    const single = await measured(pid, () => fetch(`${server.url}/api/v1/query_range?${heavy}`).then((r) => r.status));
    expect(single.value).to.equal(200);

    // 12 heavy queries at once: 2 run, 2 wait, 8 are refused.
    const sendQueries = (): Promise<{ status: number; retryAfter: string | null; text: string }[]> =>
      Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${server.url}/api/v1/query_range?${heavy}`).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), text: await r.text() })),
        ),
      );
    const burstCpuBefore = eventLoopCpuMs(pid);
    const queries = await deliverAtOnce(pid, server.httpPort, 12, sendQueries, ARRIVAL_TIMEOUT_MS);
    // The probes start once the queries are in, so they overlap the queries' work.
    let running = true;
    const health: Measured<number>[] = [];
    const writes: Measured<number>[] = [];
    const probes = (async () => {
      for (let i = 0; running && i < 1000; i++) {
        health.push(
          await measured(pid, () =>
            fetch(`${server.url}/-/healthy`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).then(
              (r) => r.status,
              () => 0,
            ),
          ),
        );
        const sample = { labels: { __name__: 'rel_probe' }, timestamps: [endMs + i], values: [i] };
        writes.push(await measured(pid, () => remoteWrite(server.url, [sample], PROBE_TIMEOUT_MS)));
        await sleep(50);
      }
    })();
    const answers = await queries.answers;
    const burstCpuMs = eventLoopCpuMs(pid) - burstCpuBefore;
    running = false;
    await probes;
    const statuses = answers.map((a) => a.status).sort();
    const wall = (ms: readonly Measured<number>[], p: number): string => percentile(ms.map((m) => m.ms), p).toFixed(0);
    const maxCpu = (ms: readonly Measured<number>[]): number => Math.max(...ms.map((m) => m.serverCpuMs));
    report(
      `one heavy query alone ${single.ms.toFixed(0)} ms (${single.serverCpuMs.toFixed(0)} ms server CPU); 12 at once: ${statuses.join(',')}; ` +
        `/-/healthy p50 ${wall(health, 50)} ms max ${wall(health, 100)} ms (server CPU meanwhile max ${maxCpu(health).toFixed(0)} ms); ` +
        `1-sample write p50 ${wall(writes, 50)} ms max ${wall(writes, 100)} ms (server CPU meanwhile max ${maxCpu(writes).toFixed(0)} ms; ${writes.length} probes); server CPU over the 12: ${burstCpuMs.toFixed(0)} ms`,
    );
    // At most 2 run and 2 wait at any moment; the server reads the requests over a few turns of its
    // event loop, so later ones may find room.
    expect(statuses.every((s) => s === 200 || s === 503), statuses.join()).to.equal(true);
    expect(statuses.filter((s) => s === 200).length).to.be.at.least(4);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).to.be.at.least(1);
    for (const r of refused) {
      expect(r.retryAfter).to.equal('1');
      expect(JSON.parse(r.text)).to.include({ status: 'error', errorType: 'unavailable' });
    }
    expect(health.length).to.be.greaterThan(0);
    expect(health.map((h) => h.value).filter((s) => s !== 200), '/-/healthy answers other than 200').to.deep.equal([]);
    expect(writes.map((w) => w.value).filter((s) => s !== 204), 'probe writes answered other than 204').to.deep.equal([]);
    // Evaluation runs in synchronous chunks (storage reads, then the evaluation itself), so a write
    // that needs several turns of the event loop can wait behind a few of them; see
    // docs/reliability.md. The bounds count the server's event-loop time while a probe waited (never
    // more than the wall-clock time), so other work on the machine does not stretch them.
    expect(maxCpu(health), 'server CPU ms spent while /-/healthy waited').to.be.below(Math.max(2000, 2 * single.serverCpuMs));
    expect(maxCpu(writes), 'server CPU ms spent while a write waited').to.be.below(Math.max(10_000, 6 * single.serverCpuMs));
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
    const sentAt = performance.now();
    const sendWrites = (): Promise<{ status: number; retryAfter: string | null; text: string; ms: number }[]> =>
      Promise.all(
        bodies.map((body) =>
          fetch(`${server.url}/api/v1/write`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
            body,
          }).then(async (r) => ({
            status: r.status,
            retryAfter: r.headers.get('retry-after'),
            text: await r.text(),
            ms: performance.now() - sentAt,
          })),
        ),
      );
    const answers = await (await deliverAtOnce(server.child.proc.pid!, server.httpPort, bodies.length, sendWrites, ARRIVAL_TIMEOUT_MS)).answers;
    const counts = new Map<number, number>();
    for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    // A write that got a place in line and then waited out the queue's limit (its slot-holder slow on
    // a loaded machine) is refused too, with the same answer; it can only come that late.
    const waitedOut = answers.filter((a) => a.status === 429 && a.ms >= DEFAULT_WRITE_QUEUE.maxWaitMs);
    report(
      `30 concurrent writes of 57,600 samples, 1 slot + 2 waiting: ${[...counts].map(([s, n]) => `${s}×${n}`).join(', ')}` +
        ` (${waitedOut.length} of the 429s after waiting ${DEFAULT_WRITE_QUEUE.maxWaitMs} ms); last answer after ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms`,
    );
    expect([...counts.keys()].every((s) => s === 204 || s === 429), JSON.stringify([...counts])).to.equal(true);
    expect(counts.get(204) ?? 0).to.be.at.least(1);
    expect((counts.get(204) ?? 0) + waitedOut.length, 'writes given the slot or a place in line').to.be.at.least(3);
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

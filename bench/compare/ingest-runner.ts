/**
 * Replays pre-encoded remote write requests over HTTP keep-alive, one connection per workload,
 * and checks afterwards through the query API that the system holds all of them.
 */
import http from 'node:http';
import type { Workload } from '../remote-write-requests.js';

export interface ReplayResult {
  readonly samples: number;
  /** First request sent to last answer received. */
  readonly seconds: number;
  /** Client-side latency of each request (retries included), ascending. */
  readonly latenciesMs: Float64Array;
  /** Answers 429/503 that were retried. */
  readonly retries: number;
}

export interface ReplayLimits {
  readonly requestTimeoutMs: number;
  readonly phaseTimeoutMs: number;
}

const RETRYABLE = new Set([429, 503]);
const MAX_RETRIES_PER_REQUEST = 200;

function post(agent: http.Agent, url: URL, body: Buffer, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: {
          'Content-Type': 'application/x-protobuf',
          'Content-Encoding': 'snappy',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
          'Content-Length': body.length,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 500) text += d;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(status);
          else if (RETRYABLE.has(status)) resolve(status);
          else reject(new Error(`remote write to ${url.href} answered ${status}: ${text.slice(0, 500)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`remote write to ${url.href} took over ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function replay(connections: readonly Workload[], writeUrl: string, limits: ReplayLimits): Promise<ReplayResult> {
  const url = new URL(writeUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections.length });
  const total = connections.reduce((n, w) => n + w.bodies.length, 0);
  const latencies = new Float64Array(total);
  let done = 0;
  let retries = 0;
  let timedOut = false;
  const phaseTimer = setTimeout(() => {
    timedOut = true;
  }, limits.phaseTimeoutMs);
  try {
    const t0 = process.hrtime.bigint();
    await Promise.all(
      connections.map(async (w) => {
        for (const body of w.bodies) {
          if (timedOut) throw new Error(`ingest did not finish within ${limits.phaseTimeoutMs} ms (${done} of ${total} requests answered)`);
          const start = process.hrtime.bigint();
          let status = await post(agent, url, body, limits.requestTimeoutMs);
          // "Later" answers are retried like a Prometheus sender would, after a short pause.
          for (let tries = 0; RETRYABLE.has(status); tries++) {
            if (tries >= MAX_RETRIES_PER_REQUEST) throw new Error(`remote write still answered ${status} after ${tries} retries`);
            retries++;
            await new Promise((r) => setTimeout(r, 20));
            status = await post(agent, url, body, limits.requestTimeoutMs);
          }
          latencies[done++] = Number(process.hrtime.bigint() - start) / 1e6;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { samples: connections.reduce((n, w) => n + w.samples, 0), seconds, latenciesMs: latencies.sort(), retries };
  } finally {
    clearTimeout(phaseTimer);
    agent.destroy();
  }
}

/** The q-quantile (0..1) of ascending values, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface InstantAnswer {
  readonly status: string;
  readonly data?: { readonly result?: readonly { readonly value?: readonly [number, string] }[] };
}

/** The single value of an instant query, or undefined when the result is empty. */
export async function instantValue(baseUrl: string, query: string, timeSec: number): Promise<number | undefined> {
  const params = new URLSearchParams({ query, time: String(timeSec) });
  const res = await fetch(`${baseUrl}/api/v1/query?${params.toString()}`, { signal: AbortSignal.timeout(120_000) });
  const answer = (await res.json()) as InstantAnswer;
  if (res.status !== 200 || answer.status !== 'success') throw new Error(`${query} answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
  const value = answer.data?.result?.[0]?.value?.[1];
  return value === undefined ? undefined : Number(value);
}

export interface ExpectedData {
  readonly series: number;
  readonly hosts: number;
  readonly samplesPerSeries: number;
  readonly intervalMs: number;
  /** Timestamp of the last sample of every series. */
  readonly lastSampleMs: number;
}

/**
 * Checks that the system answers with every series, and with every sample of one metric on every
 * host; polls for up to `timeoutMs` since some systems make new data searchable after a moment.
 */
export async function verifyIngested(baseUrl: string, expected: ExpectedData, timeoutMs: number): Promise<void> {
  const t = expected.lastSampleMs / 1000;
  const window = `${(expected.samplesPerSeries * expected.intervalMs) / 1000}s`;
  const checks = [
    { query: 'count({__name__=~".+"})', want: expected.series },
    { query: `sum(count_over_time(node_load1[${window}]))`, want: expected.hosts * expected.samplesPerSeries },
  ];
  const deadline = Date.now() + timeoutMs;
  for (const { query, want } of checks) {
    for (;;) {
      const got = await instantValue(baseUrl, query, t);
      if (got === want) break;
      if (Date.now() > deadline) throw new Error(`${baseUrl}: ${query} at ${t} gave ${got}, want ${want}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

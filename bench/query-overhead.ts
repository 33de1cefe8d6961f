/**
 * The fixed cost of a query in the HTTP API (docs/benchmarks.md, "Query", "Fixed cost per query"):
 * server CPU milliseconds per request for trivial queries over tiny data, Metricstor against
 * Prometheus, asked one after another over one keep-alive connection as form POSTs accepting gzip
 * (as the query benchmark's client sends them).
 *
 *   npx tsx bench/query-overhead.ts                       2,000 requests per query, both systems
 *   npx tsx bench/query-overhead.ts --requests=500        fewer requests
 *   npx tsx bench/query-overhead.ts --no-prometheus       Metricstor only
 *   npx tsx bench/query-overhead.ts --cpu-prof=DIR        run Metricstor from the sources (tsx) and write
 *                                                        its V8 CPU profile to DIR
 *
 * Metricstor runs compiled, as `npm run bench` runs it (building dist/ when it is older than the
 * sources). Both servers get the same 10 series of `up` over the last hour at 15 s through remote write.
 * CPU time is read from /proc/<pid>/stat around each query's timed requests (after a warm-up), so
 * the client's own work and other load on the machine count for little.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/promql/testing/net.js';
import { pushRemoteWrite, type PushSeries } from '../src/promql/testing/remote-write.js';
import { startProcess } from './compare/managed-process.js';
import { cpuSeconds } from './compare/proc-stats.js';
import { metricstor } from './compare/systems/metricstor.js';
import { prometheus } from './compare/systems/prometheus.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

const SERIES = 10;
const HOUR_MS = 3_600_000;
const INTERVAL_MS = 15_000;
const WARMUP_REQUESTS = 200;
const MAX_REQUESTS = 20_000;
/** Every query of one system together may take this long before the run gives up. */
const SYSTEM_DEADLINE_MS = 5 * 60_000;

interface Args {
  readonly requests: number;
  readonly prometheus: boolean;
  readonly cpuProfDir: string | undefined;
}

interface Target {
  readonly name: string;
  readonly baseUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

interface Measured {
  readonly label: string;
  readonly cpuMsPerRequest: number;
  readonly wallMsPerRequest: number;
}

function parseArgs(argv: readonly string[]): Args {
  let requests = 2000;
  let withPrometheus = true;
  let cpuProfDir: string | undefined;
  for (const arg of argv) {
    if (arg.startsWith('--requests=')) requests = Number(arg.slice('--requests='.length));
    else if (arg === '--no-prometheus') withPrometheus = false;
    else if (arg.startsWith('--cpu-prof=')) cpuProfDir = path.resolve(arg.slice('--cpu-prof='.length));
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(requests) || requests < 1 || requests > MAX_REQUESTS) {
    throw new Error(`--requests must be an integer from 1 to ${MAX_REQUESTS}`);
  }
  return { requests, prometheus: withPrometheus, cpuProfDir };
}

interface QueryRequest {
  /** What the report calls it. */
  readonly label: string;
  readonly path: string;
  /** The form body. */
  readonly form: string;
}

/** The queries asked, with times fixed at the end of the data. */
function queryRequests(endMs: number): QueryRequest[] {
  const time = String(endMs / 1000);
  const start = String((endMs - HOUR_MS) / 1000);
  const instant = (query: string): QueryRequest => ({
    label: `instant ${query}`,
    path: '/api/v1/query',
    form: new URLSearchParams({ query, time }).toString(),
  });
  const range = (query: string): QueryRequest => ({
    label: `range 1h step 15s ${query}`,
    path: '/api/v1/query_range',
    form: new URLSearchParams({ query, start, end: time, step: '15' }).toString(),
  });
  return [instant('1'), instant('up'), instant('sum by (job) (rate(up[5m]))'), range('vector(1)'), range('up')];
}

function tinyData(endMs: number): PushSeries[] {
  const points = HOUR_MS / INTERVAL_MS;
  const first = endMs - (points - 1) * INTERVAL_MS;
  const timestamps = Array.from({ length: points }, (_, i) => first + i * INTERVAL_MS);
  return Array.from({ length: SERIES }, (_, s) => ({
    labels: { __name__: 'up', job: `job${s % 2}`, instance: `host${s}:9100` },
    timestamps,
    values: timestamps.map(() => 1),
  }));
}

/**
 * POSTs the query as a form accepting gzip, as the query benchmark's client (fetch) does, over the
 * keep-alive agent; resolves once the whole body has arrived with status 200.
 */
function post(agent: http.Agent, baseUrl: string, request: QueryRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}${request.path}`,
      {
        agent,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(request.form),
          'accept-encoding': 'gzip, deflate',
        },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${request.path} answered ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${request.path} timed out`)));
    req.on('error', reject);
    req.end(request.form);
  });
}

async function measure(target: Target, queries: readonly QueryRequest[], requests: number): Promise<Measured[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const deadline = Date.now() + SYSTEM_DEADLINE_MS;
  const out: Measured[] = [];
  try {
    for (const q of queries) {
      for (let i = 0; i < WARMUP_REQUESTS; i++) await post(agent, target.baseUrl, q);
      const cpuBefore = cpuSeconds(target.pid);
      const wallBefore = performance.now();
      for (let i = 0; i < requests; i++) {
        await post(agent, target.baseUrl, q);
        if (Date.now() > deadline) throw new Error(`${target.name} took longer than ${SYSTEM_DEADLINE_MS} ms`);
      }
      const wallMs = performance.now() - wallBefore;
      const cpuMs = (cpuSeconds(target.pid) - cpuBefore) * 1000;
      out.push({ label: q.label, cpuMsPerRequest: cpuMs / requests, wallMsPerRequest: wallMs / requests });
    }
  } finally {
    agent.destroy();
  }
  return out;
}

/** From the sources through tsx, so that node's --cpu-prof can be given. */
async function startProfiledMetricstor(dataDir: string, cpuProfDir: string): Promise<Target> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const args = [
    '--cpu-prof',
    `--cpu-prof-dir=${cpuProfDir}`,
    '--import',
    'tsx',
    CLI,
    'serve',
    `--server.http-addr=127.0.0.1:${httpPort}`,
    `--server.grpc-addr=127.0.0.1:${grpcPort}`,
    '--server.log-level=warn',
    `--storage.data-dir=${dataDir}`,
  ];
  const proc = await startProcess({ command: process.execPath, args, cwd: REPO_ROOT, readyUrl: `${baseUrl}/-/ready`, readyTimeoutMs: 120_000 });
  return { name: 'metricstor', baseUrl, pid: proc.pid, stop: () => proc.stop() };
}

function render(requests: number, results: ReadonlyMap<string, Measured[]>): string {
  const ours = results.get('metricstor') ?? [];
  const theirs = results.get('prometheus');
  const lines = [
    `${requests} sequential requests per query (form POSTs accepting gzip) over one keep-alive connection, after ${WARMUP_REQUESTS} warm-up requests; server CPU from /proc.`,
    '',
    theirs === undefined
      ? '| query | Metricstor CPU ms/req | Metricstor wall ms/req |'
      : '| query | Metricstor CPU ms/req | Prometheus CPU ms/req | CPU ratio | Metricstor wall ms/req | Prometheus wall ms/req |',
    theirs === undefined ? '|---|---:|---:|' : '|---|---:|---:|---:|---:|---:|',
  ];
  ours.forEach((m, i) => {
    const query = `\`${m.label.replaceAll('|', '\\|')}\``;
    const p = theirs?.[i];
    lines.push(
      p === undefined
        ? `| ${query} | ${m.cpuMsPerRequest.toFixed(3)} | ${m.wallMsPerRequest.toFixed(3)} |`
        : `| ${query} | ${m.cpuMsPerRequest.toFixed(3)} | ${p.cpuMsPerRequest.toFixed(3)} | ${(m.cpuMsPerRequest / p.cpuMsPerRequest).toFixed(2)}× | ${m.wallMsPerRequest.toFixed(3)} | ${p.wallMsPerRequest.toFixed(3)} |`,
    );
  });
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = await mkdtemp(path.join(os.tmpdir(), 'metricstor-query-overhead-'));
  const endMs = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS;
  const data = tinyData(endMs);
  const queries = queryRequests(endMs);
  const results = new Map<string, Measured[]>();
  try {
    const metricstorDir = path.join(root, 'metricstor');
    const profileDir = args.cpuProfDir;
    const starters: (() => Promise<Target>)[] = [
      profileDir === undefined
        ? async () => metricstor({ head: 'buffered' }).start(metricstorDir)
        : () => startProfiledMetricstor(metricstorDir, profileDir),
    ];
    if (args.prometheus) {
      const kind = prometheus();
      const why = kind.unavailable();
      if (why !== undefined) process.stderr.write(`skipping Prometheus: ${why}\n`);
      else starters.push(async () => kind.start(path.join(root, 'prometheus')));
    }
    for (const start of starters) {
      const target = await start();
      try {
        await pushRemoteWrite(target.baseUrl, data);
        results.set(target.name, await measure(target, queries, args.requests));
      } finally {
        await target.stop();
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  process.stdout.write(`${render(args.requests, results)}\n`);
}

await main();

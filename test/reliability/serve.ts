/** `metricstor serve` as a child process on free 127.0.0.1 ports, for the kill, shutdown and overload tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWriteRequest, type PushSeries } from '../../src/promql/testing/remote-write.js';
import { freePort } from '../helpers/net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');
const FLAREDB_DEV = path.join(ROOT, 'flaredb-client', 'bin', 'flaredb-dev.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Child {
  private stderrTail = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.resume();
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.proc.kill(signal);
    return this.exited;
  }
}

export interface ServeOptions {
  readonly dataDir: string;
  readonly httpPort?: number;
  /** Extra METRICSTOR_* settings. */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags such as --expose-gc. */
  readonly nodeFlags?: readonly string[];
}

export interface Served {
  readonly child: Child;
  readonly url: string;
  readonly httpPort: number;
}

/** Starts the server and resolves once /-/ready answers 200. */
export async function serve(options: ServeOptions): Promise<Served> {
  const httpPort = options.httpPort ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    METRICSTOR_HTTP_ADDR: `127.0.0.1:${httpPort}`,
    METRICSTOR_GRPC_ADDR: '127.0.0.1:0',
    METRICSTOR_DATA_DIR: options.dataDir,
    METRICSTOR_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const proc = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', CLI, 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!child.alive) throw new Error(`server exited: ${child.stderr}`);
    const status = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await child.kill();
      throw new Error(`server not ready within 30 s: ${child.stderr}`);
    }
    await sleep(100);
  }
  return { child, url, httpPort };
}

/** flaredb-dev (the FlareDB stand-in from flaredb-client) on a free port. */
export async function startFlareDbDev(dataDir: string): Promise<{ child: Child; address: string }> {
  const address = `127.0.0.1:${await freePort()}`;
  const proc = spawn(process.execPath, [FLAREDB_DEV, '--addr', address, '--data-dir', dataDir, '--default-mode', 'strong'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc);
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const deadline = Date.now() + 10_000;
  while (!out.includes('listening')) {
    if (!child.alive || Date.now() > deadline) throw new Error(`flaredb-dev did not start: ${child.stderr}`);
    await sleep(50);
  }
  return { child, address };
}

/** POSTs a remote write; the HTTP status, or 0 when no answer came (connection cut, timeout). */
export async function remoteWrite(url: string, series: readonly PushSeries[], timeoutMs = 10_000): Promise<number> {
  try {
    const res = await fetch(`${url}/api/v1/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
      body: encodeWriteRequest(series),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Every raw sample of the series a selector matches in [startMs, endMs], keyed `labels@ms` → value text. */
export async function rawSamples(url: string, selector: string, startMs: number, endMs: number): Promise<Map<string, string>> {
  const rangeS = Math.ceil((endMs - startMs) / 1000) + 1;
  const params = new URLSearchParams({ query: `${selector}[${rangeS}s]`, time: String(endMs / 1000) });
  const res = await fetch(`${url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { data?: { result?: { metric: Record<string, string>; values: [number, string][] }[] } };
  if (res.status !== 200) throw new Error(`query ${selector}: ${res.status} ${JSON.stringify(body)}`);
  const out = new Map<string, string>();
  for (const r of body.data?.result ?? []) {
    const key = seriesKey(r.metric);
    for (const [t, v] of r.values) out.set(`${key}@${Math.round(t * 1000)}`, v);
  }
  return out;
}

export function seriesKey(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

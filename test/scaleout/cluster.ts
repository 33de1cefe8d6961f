/** Real processes for the scale-out tests: one flaredb-dev server and gateways (`metricstor serve`). */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWriteRequest } from '../api/push.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEV_SERVER_BIN = path.join(ROOT, 'flaredb-client', 'bin', 'flaredb-dev.js');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A child process with its stdout kept as lines. */
export class Proc {
  readonly lines: string[] = [];
  private exited: Promise<void>;
  private stderr = '';

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get errorOutput(): string {
    return this.stderr;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) process.kill(this.pid, sig);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    process.kill(this.pid, 'SIGCONT');
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves once a stdout line contains `text`; throws after `timeoutMs` or when the process exits. */
  async waitForLine(text: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.lines.find((l) => l.includes(text));
      if (line !== undefined) return line;
      if (!this.alive) throw new Error(`${this.name} exited: ${this.stderr}`);
      await sleep(50);
    }
    throw new Error(`${this.name}: no line with ${JSON.stringify(text)} within ${timeoutMs} ms; stderr: ${this.stderr}`);
  }
}


/** Starts flaredb-dev on `port` (a free one when absent) with its data in `dataDir`. */
export async function startFlareDbDev(dataDir: string, port?: number): Promise<{ proc: Proc; address: string }> {
  const address = `127.0.0.1:${port ?? (await freePort())}`;
  const child = spawn(process.execPath, [DEV_SERVER_BIN, '--addr', address, '--data-dir', dataDir, '--default-mode', 'strong', '--no-sync'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new Proc('flaredb-dev', child);
  await proc.waitForLine('listening', 10_000);
  return { proc, address };
}

export interface GatewaySettings {
  /** 0 = write-through. */
  readonly headFlushIntervalMs: number;
  readonly leaseTtlMs: number;
  readonly orphanCheckMs: number;
  readonly maintenanceIntervalMs: number;
  readonly requestTimeoutMs: number;
}

export interface Gateway {
  readonly proc: Proc;
  readonly url: string;
}

/** Starts `metricstor serve` against the dev server at `flaredbAddress`; resolves once /-/ready is 200. */
export async function startGateway(name: string, flaredbAddress: string, settings: GatewaySettings): Promise<Gateway> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const dataDir = await tempDir(`scaleout-${name}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    METRICSTOR_HTTP_ADDR: `127.0.0.1:${httpPort}`,
    METRICSTOR_GRPC_ADDR: `127.0.0.1:${grpcPort}`,
    METRICSTOR_DATA_DIR: dataDir,
    METRICSTOR_STORAGE_BACKEND: 'flaredb',
    METRICSTOR_FLAREDB_ENDPOINTS: flaredbAddress,
    METRICSTOR_FLAREDB_REQUEST_TIMEOUT: `${settings.requestTimeoutMs}ms`,
    METRICSTOR_HEAD_FLUSH_INTERVAL: settings.headFlushIntervalMs === 0 ? '0' : `${settings.headFlushIntervalMs}ms`,
    METRICSTOR_LEASE_TTL: `${settings.leaseTtlMs}ms`,
    METRICSTOR_ORPHAN_CHECK_INTERVAL: `${settings.orphanCheckMs}ms`,
    METRICSTOR_MAINTENANCE_INTERVAL: `${settings.maintenanceIntervalMs}ms`,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new Proc(name, child);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!proc.alive) throw new Error(`${name} exited: ${proc.errorOutput}`);
    const status = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(`${name} not ready within 30 s; stderr: ${proc.errorOutput}`);
    }
    await sleep(100);
  }
  return { proc, url };
}

/** Removes a directory made by tempDir. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** POSTs one sample of `labels` by remote write; resolves to the HTTP status (0 = no answer). */
export async function writeSample(url: string, labels: Record<string, string>, timestampMs: number, value: number, timeoutMs = 10_000): Promise<number> {
  const body = encodeWriteRequest([{ labels, timestamps: [timestampMs], values: [value] }]);
  try {
    const res = await fetch(`${url}/api/v1/write`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Raw samples of a selector over [startMs, endMs] through one gateway, as `ts=value` strings sorted by time (status 0: no answer within `timeoutMs`). */
export async function rawSamples(url: string, selector: string, startMs: number, endMs: number, timeoutMs = 15_000): Promise<{ status: number; samples: string[] }> {
  const rangeS = Math.ceil((endMs - startMs) / 1000) + 1;
  const params = new URLSearchParams({ query: `${selector}[${rangeS}s]`, time: String(endMs / 1000) });
  let res: Response;
  try {
    res = await fetch(`${url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return { status: 0, samples: [] };
  }
  const body = (await res.json()) as { data?: { result?: { values: [number, string][] }[] } };
  if (res.status !== 200) return { status: res.status, samples: [] };
  const samples = (body.data?.result ?? []).flatMap((r) => r.values.map(([t, v]) => `${Math.round(t * 1000)}=${v}`));
  samples.sort((a, b) => Number(a.split('=')[0]) - Number(b.split('=')[0]));
  return { status: 200, samples };
}

/** Parsed `maintenance run` lines among a process's stdout lines. */
export function maintenanceRuns(lines: readonly string[]): { job: string; holder: string }[] {
  const out: { job: string; holder: string }[] = [];
  for (const line of lines) {
    if (!line.includes('"maintenance run"')) continue;
    try {
      const parsed = JSON.parse(line) as { job?: unknown; holder?: unknown };
      if (typeof parsed.job === 'string' && typeof parsed.holder === 'string') out.push({ job: parsed.job, holder: parsed.holder });
    } catch {
      // not a log line of ours
    }
  }
  return out;
}

/** The value of `name{job="<job>"}` on a gateway's /metrics, or undefined when absent. */
export async function jobMetric(url: string, name: string, job: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{job="${job}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

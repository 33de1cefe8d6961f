/**
 * A throwaway Prometheus server (Debian's `prometheus` binary) on a free 127.0.0.1 port with a
 * fresh TSDB in a temporary directory, accepting remote write.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

export interface PrometheusProcess {
  readonly baseUrl: string;
  /** The tail of what Prometheus wrote to stderr so far (the last 20,000 characters). */
  log(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; removes the temporary directory. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /**
   * The whole prometheus.yml, replacing the default (15 s scrape interval and a 30 d out-of-order
   * window so historical samples pushed after newer ones are taken).
   */
  readonly config?: string;
  /** More command-line flags, after the defaults (listen address, TSDB path, remote write receiver, 100y retention). */
  readonly flags?: readonly string[];
  /** Default `warn`. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Also copy Prometheus's stderr to ours as it comes. Default false. */
  readonly echoLog?: boolean;
  /** How long to wait for /-/ready to answer 200. Default 30 s. */
  readonly readyTimeoutMs?: number;
}

const DEFAULT_CONFIG = 'global:\n  scrape_interval: 15s\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n';

/** True when `binary --version` runs (for `prometheus`, `promtool`). */
export function onPath(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** True when the `prometheus` binary runs. */
export function prometheusOnPath(): boolean {
  return onPath('prometheus');
}

/**
 * Starts Prometheus and waits until /-/ready answers 200. Retention is long so old test data stays.
 */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'metricstor-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, options.config ?? DEFAULT_CONFIG);
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--storage.tsdb.retention.time=100y',
      `--log.level=${options.logLevel ?? 'warn'}`,
      ...(options.flags ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-20_000);
    if (options.echoLog === true) process.stderr.write(b);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/-/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus did not become ready within ${readyTimeoutMs} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, log: () => stderr, stop };
}

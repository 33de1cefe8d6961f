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
  stop(): Promise<void>;
}

/** True when the `prometheus` binary runs. */
export function prometheusOnPath(): boolean {
  return spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts Prometheus and waits until /-/ready answers 200. The out-of-order window lets it take
 * historical samples pushed after newer ones; retention is long so old test data stays.
 */
export async function startPrometheus(readyTimeoutMs = 30_000): Promise<PrometheusProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'metricstor-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, 'global:\n  scrape_interval: 15s\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n');
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--storage.tsdb.retention.time=100y',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/-/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus did not become ready:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, stop };
}

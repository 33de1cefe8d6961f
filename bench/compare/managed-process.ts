/**
 * Server processes the benchmark starts: spawned with a bounded wait for readiness, stopped by
 * PID with SIGTERM then SIGKILL, and all killed if the benchmark itself is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ManagedProcess {
  readonly pid: number;
  /** The tail of what the process wrote to stdout and stderr (the last 20,000 characters). */
  log(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Polled until it answers 200. */
  readonly readyUrl: string;
  readonly readyTimeoutMs: number;
}

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  live.clear();
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export async function startProcess(options: StartOptions): Promise<ManagedProcess> {
  const child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
  if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
  live.add(child);
  let output = '';
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const stop = async (graceMs = 60_000): Promise<void> => {
    if (!hasExited()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    }
  };
  const proc: ManagedProcess = { pid: child.pid, log: () => output, exited: hasExited, stop };
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    try {
      const res = await fetch(options.readyUrl, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || hasExited()) {
      await stop(5000);
      throw new Error(`${options.command} did not become ready within ${options.readyTimeoutMs} ms:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

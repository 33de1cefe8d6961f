import { DEFAULT_CONFIG, type Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { tempDir } from '../helpers/tmp.js';

export { prng } from '../../src/promql/testing/prng.js';

export interface FuzzServer {
  readonly base: string;
  readonly server: RunningServer;
  /** Error log lines (internal failures), kept for the failure message. */
  readonly logged: string[];
  close(): Promise<void>;
}

/** A real server on a free 127.0.0.1 port with its own data dir, logging only errors. */
export async function startFuzzServer(query: Partial<Config['query']> = {}): Promise<FuzzServer> {
  const dataDir = await tempDir('fuzz');
  const config: Config = {
    ...DEFAULT_CONFIG,
    server: { ...DEFAULT_CONFIG.server, httpAddr: '127.0.0.1:0', grpcAddr: '127.0.0.1:0', logLevel: 'error' },
    storage: { ...DEFAULT_CONFIG.storage, dataDir },
    query: { ...DEFAULT_CONFIG.query, ...query },
  };
  const logged: string[] = [];
  const logger = createLogger({ level: 'error', write: (line) => void logged.push(line) });
  const server = await startServer(config, { logger });
  return { base: `http://${server.httpAddress}`, server, logged, close: () => server.close() };
}

/** Tally of status codes per kind of input, for the test's assertions and docs/reliability.md. */
export class Outcomes {
  readonly byStatus = new Map<number, number>();
  readonly failures: string[] = [];
  tried = 0;

  /** `answered` marks a 5xx that is the right answer for this input (e.g. the client's own zero timeout). */
  record(status: number, body: string, input: string, answered = false): void {
    this.tried++;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    const clientError = status >= 400 && status < 500;
    if (status >= 500 && !answered) this.failures.push(`${status} for ${input.slice(0, 120)}: ${body.slice(0, 200)}`);
    else if (clientError && body.trim() === '') this.failures.push(`${status} without a message for ${input.slice(0, 120)}`);
  }

  summary(): string {
    const statuses = [...this.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`);
    return `${this.tried} inputs: ${statuses.join(', ')}`;
  }
}

/** Answers /-/healthy within the deadline, else throws. */
export async function assertHealthy(base: string, withinMs = 2000): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/-/healthy`, { signal: AbortSignal.timeout(withinMs) });
  if (res.status !== 200) throw new Error(`/-/healthy answered ${res.status}`);
  await res.text();
  return performance.now() - start;
}

export function rssMiB(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Prints a one-line summary so a run's figures can be copied into docs/reliability.md. */
export function report(label: string, text: string): void {
  if (process.env.FUZZ_REPORT) process.stdout.write(`      [fuzz] ${label}: ${text}\n`);
}

/** What the benchmark needs from each system it compares: start on a data dir, write, measure, stop. */
import { spawnSync } from 'node:child_process';

export interface DiskFigures {
  /** The figure compared across systems (bytes on disk after flush and compaction). */
  readonly bytes: number;
  /** What `bytes` covers, e.g. "blocks (snapshot with head)". */
  readonly what: string;
  /** Other sizes worth reporting next to it, e.g. the whole directory with the WAL. */
  readonly also: readonly { readonly what: string; readonly bytes: number }[];
}

export interface RunningSystem {
  /** The query target name, e.g. "metricstor". */
  readonly name: string;
  readonly baseUrl: string;
  readonly pid: number;
  /** Everything the system stores lives under this directory. */
  readonly dataDir: string;
  /** HTTP path of the remote write 1.0 receiver. */
  readonly writePath: string;
  /**
   * Makes everything written so far durable and compacted as far as the system allows, then
   * measures its data on disk. May stop the system (Metricstor flushes its head on shutdown).
   */
  flushAndMeasureDisk(): Promise<DiskFigures>;
  /** Graceful stop, bounded; the data dir stays. */
  stop(): Promise<void>;
  log(): string;
}

export interface SystemKind {
  /** Name in reports, e.g. "metricstor (buffered)". */
  readonly label: string;
  /** Query target name of its instance. */
  readonly name: string;
  /** Why it cannot run here (binary missing), or undefined when it can. */
  unavailable(): string | undefined;
  version(): string;
  /** Starts on `dataDir` (created when absent, reused when it holds data); resolves once ready. */
  start(dataDir: string): Promise<RunningSystem>;
}

/** The Debian package version of a binary, or "unknown". */
export function packageVersion(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : 'unknown';
}

export function binaryRuns(binary: string, versionFlag: string): boolean {
  return spawnSync(binary, [versionFlag], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

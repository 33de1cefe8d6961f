/** Metricstor: the real server (`metricstor serve`) as `npm start` runs it, built from this tree. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { freePort } from '../../../src/promql/testing/net.js';
import { diskUsageBytes } from '../disk.js';
import { startProcess } from '../managed-process.js';
import type { RunningSystem, SystemKind } from './system.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const LAUNCHER = path.join(REPO_ROOT, 'bin', 'metricstor.js');
/** What `npm run build` compiles into dist/. */
const BUILD_INPUTS = ['src', 'web', path.join('flaredb-client', 'src')].map((dir) => path.join(REPO_ROOT, dir));

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The environment variables and Node flags the launcher (bin/metricstor.js, what `npm start` and the
 * installed `metricstor` command run) sets on its first line, so that a benchmark starts the server
 * as users do.
 */
export function launcherCommand(): { readonly env: Readonly<Record<string, string>>; readonly nodeFlags: string[] } {
  const first = readFileSync(LAUNCHER, 'utf8').split('\n', 1)[0]!;
  const match = /^#!\/usr\/bin\/env -S((?: [A-Z_]+=\S+)*) node((?: --\S+)*)$/.exec(first);
  if (match === null) throw new Error(`${LAUNCHER} starts with "${first}", not "#!/usr/bin/env -S [NAME=value ...] node [--flag ...]"`);
  const env: Record<string, string> = {};
  for (const assignment of match[1]!.split(' ').filter((a) => a !== '')) {
    const eq = assignment.indexOf('=');
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return { env, nodeFlags: match[2]!.split(' ').filter((f) => f !== '') };
}

export function launcherNodeFlags(): string[] {
  return launcherCommand().nodeFlags;
}

/** This process's environment with the launcher's variables over it, as a launched server sees it. */
export function launcherEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...launcherCommand().env };
}

/**
 * What `node` needs to start the compiled CLI as the launcher does: its Node flags, then
 * `extraNodeFlags` (later ones win), then the entry point.
 */
export function serverNodeArgs(extraNodeFlags: readonly string[] = []): string[] {
  return [...launcherNodeFlags(), ...extraNodeFlags, CLI];
}

/**
 * Runs `npm run build` when dist/ is missing or older than a source file, so that the benchmark
 * measures the compiled server users run (the tsx loader adds about 50 MB of RSS and its own CPU).
 */
export function ensureBuilt(): void {
  let builtMs = 0;
  try {
    builtMs = statSync(CLI).mtimeMs;
  } catch {
    // not built yet
  }
  if (builtMs > 0 && BUILD_INPUTS.every((dir) => newestMtimeMs(dir) <= builtMs)) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status ?? build.signal})`);
}

export type HeadPolicy = 'buffered' | 'write-through';

export interface MetricstorOptions {
  readonly head: HeadPolicy;
  /** A FlareDB endpoint (host:port) instead of the embedded store. */
  readonly flaredbAddress?: string;
  /** Query target name; default "metricstor". */
  readonly name?: string;
}

interface LmdbTreeStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

/** Bytes of the pages the store's B-tree uses (free pages and the unused file tail excluded). */
async function lmdbLiveBytes(kvDir: string): Promise<number> {
  const db = open({ path: kvDir, readOnly: true, keyEncoding: 'binary', encoding: 'binary' });
  try {
    const s = db.getStats() as LmdbTreeStats;
    return (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize;
  } finally {
    await db.close();
  }
}

export function metricstor(options: MetricstorOptions): SystemKind {
  const backend = options.flaredbAddress === undefined ? 'embedded' : 'flaredb';
  return {
    label: `metricstor (${backend}, ${options.head})`,
    name: options.name ?? 'metricstor',
    unavailable: () => undefined,
    version: () => {
      const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
      if (head.status !== 0) return 'unknown commit';
      const dirty = spawnSync('git', ['diff', '--quiet', 'HEAD', '--', 'src'], { cwd: REPO_ROOT }).status !== 0;
      return `commit ${head.stdout.trim()}${dirty ? ' with uncommitted changes under src/' : ''}`;
    },
    start: async (dataDir) => {
      ensureBuilt();
      await mkdir(dataDir, { recursive: true });
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      const args = [
        ...serverNodeArgs(),
        'serve',
        `--server.http-addr=127.0.0.1:${httpPort}`,
        `--server.grpc-addr=127.0.0.1:${grpcPort}`,
        '--server.log-level=warn',
        `--storage.data-dir=${dataDir}`,
        // 0 = write-through; the buffered default flushes open chunks every 10 s.
        ...(options.head === 'write-through' ? ['--storage.head-flush-interval=0'] : []),
        ...(options.flaredbAddress === undefined ? [] : ['--storage.backend=flaredb', `--storage.flaredb.endpoints=${options.flaredbAddress}`, '--storage.flaredb.request-timeout=30s']),
      ];
      const baseUrl = `http://127.0.0.1:${httpPort}`;
      const proc = await startProcess({ command: process.execPath, args, env: launcherEnv(), cwd: REPO_ROOT, readyUrl: `${baseUrl}/-/ready`, readyTimeoutMs: 120_000 });
      const running: RunningSystem = {
        name: options.name ?? 'metricstor',
        baseUrl,
        pid: proc.pid,
        dataDir,
        writePath: '/api/v1/write',
        log: proc.log,
        stop: () => proc.stop(),
        flushAndMeasureDisk: async () => {
          // Compaction on request closes the head and gives freed file space back; older servers lack it,
          // and then the graceful stop alone flushes the head.
          const res = await fetch(`${baseUrl}/api/v1/admin/tsdb/compact`, { method: 'POST', signal: AbortSignal.timeout(900_000) });
          const answer = await res.text();
          if (res.status !== 200 && res.status !== 404) throw new Error(`compaction answered ${res.status}: ${answer.slice(0, 300)}`);
          await proc.stop();
          return {
            bytes: await diskUsageBytes(dataDir),
            what: res.status === 200 ? 'data dir after admin/tsdb/compact and a graceful stop' : 'data dir after a graceful stop (head flushed)',
            also: [{ what: 'pages in use in LMDB', bytes: await lmdbLiveBytes(path.join(dataDir, 'kv')) }],
          };
        },
      };
      return running;
    },
  };
}

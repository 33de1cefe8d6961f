/**
 * Where the memory of an ingesting server goes: starts the compiled server (as `npm start` runs it,
 * plus any Node flags to try), replays the side-by-side benchmark's requests once, and prints the
 * rate, server CPU per million samples, peak RSS and the largest resident anonymous and file-backed
 * memory seen. With --heap-snapshot the server writes a V8 heap snapshot into --out after the
 * replay (what is live, as opposed to what the heap has grown to). With --smaps it also prints
 * what the resident memory was made of when it was highest (/proc/<pid>/smaps by kind of mapping).
 *
 *   npx tsx bench/ingest-memory.ts [--hosts=200] [--hours=2] [--concurrency=16]
 *     [--node-flags="--max-semi-space-size=4"] [--heap-snapshot] [--smaps] [--out=DIR]
 *     [--end=2026-11-26T23:59:00Z]
 *
 * The data ends now unless --end says when (a run just after midnight UTC otherwise spans two days).
 *
 * The server runs from dist/, built first when older than the sources, with the launcher's Node
 * flags and environment (bin/metricstor.js); --node-flags come after them, so they can override one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/promql/testing/net.js';
import { buildDataset, describeSize } from './compare/dataset.js';
import { replay } from './compare/ingest-runner.js';
import { startProcess } from './compare/managed-process.js';
import { cpuSeconds, peakRssBytes, sampleRssSplit, sampleSmapsAtPeak } from './compare/proc-stats.js';
import { ensureBuilt, launcherEnv, serverNodeArgs } from './compare/systems/metricstor.js';

const SNAPSHOT_WAIT_MS = 30_000;

function flag(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  return arg === undefined ? fallback : arg.slice(prefix.length);
}

const hosts = Number(flag('hosts', '200'));
const hours = Number(flag('hours', '2'));
const concurrency = Number(flag('concurrency', '16'));
const nodeFlags = flag('node-flags', '').split(' ').filter((f) => f !== '');
const snapshot = process.argv.includes('--heap-snapshot');
const smaps = process.argv.includes('--smaps');
const outDir = path.resolve(flag('out', '.'));
const endMs = Date.parse(flag('end', new Date().toISOString()));
if (Number.isNaN(endMs)) throw new Error('--end wants an ISO 8601 time');
if (!(hosts > 0 && hours > 0 && concurrency > 0)) throw new Error('--hosts, --hours and --concurrency want positive numbers');

ensureBuilt();
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
const dataset = buildDataset({ hosts, hours }, concurrency, endMs);
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'metricstor-ingest-memory-'));
const httpPort = await freePort();
const baseUrl = `http://127.0.0.1:${httpPort}`;
const server = await startProcess({
  command: process.execPath,
  env: launcherEnv(),
  args: [
    ...serverNodeArgs([...nodeFlags, ...(snapshot ? ['--heapsnapshot-signal=SIGUSR2'] : [])]),
    'serve',
    `--server.http-addr=127.0.0.1:${httpPort}`,
    `--server.grpc-addr=127.0.0.1:${await freePort()}`,
    '--server.log-level=warn',
    `--storage.data-dir=${dataDir}`,
  ],
  cwd: outDir,
  readyUrl: `${baseUrl}/-/ready`,
  readyTimeoutMs: 120_000,
});
try {
  const cpu0 = cpuSeconds(server.pid);
  const split = sampleRssSplit(server.pid);
  const parts = smaps ? sampleSmapsAtPeak(server.pid, `${path.sep}data.mdb`) : null;
  const r = await replay(dataset.connections(concurrency), `${baseUrl}/api/v1/write`, { requestTimeoutMs: 60_000, phaseTimeoutMs: 1_800_000 });
  const cpu = cpuSeconds(server.pid) - cpu0;
  const { anonBytes, fileBytes } = split.stop();
  process.stdout.write(
    `${describeSize(dataset.size)}, concurrency ${concurrency}, node flags besides the launcher's [${nodeFlags.join(' ')}]: ` +
      `${Math.round(r.samples / r.seconds).toLocaleString('en-US')} samples/s, ${(cpu / (r.samples / 1e6)).toFixed(2)} CPU-s per million, ` +
      `peak RSS ${mib(peakRssBytes(server.pid))} MiB, largest anon ${mib(anonBytes)} MiB, largest file-backed ${mib(fileBytes)} MiB\n`,
  );
  const atPeak = parts?.stop() ?? null;
  if (atPeak !== null) {
    process.stdout.write(
      `at the highest RSS seen: V8 heap pages (256 KiB anonymous mappings) ${mib(atPeak.v8PagesBytes)} MiB, ` +
        `main malloc heap ${mib(atPeak.mallocHeapBytes)} MiB, anonymous mappings of 16 MiB or more (thread arenas) ${mib(atPeak.largeAnonBytes)} MiB, ` +
        `other anonymous ${mib(atPeak.otherAnonBytes)} MiB, data.mdb ${mib(atPeak.dataFileBytes)} MiB, other files ${mib(atPeak.otherFileBytes)} MiB\n`,
    );
  }
  if (snapshot) {
    process.kill(server.pid, 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_WAIT_MS));
    process.stdout.write(`heap snapshot written into ${outDir}\n`);
  }
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}

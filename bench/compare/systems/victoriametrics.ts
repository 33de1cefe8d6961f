/** VictoriaMetrics single-node (the `victoria-metrics` binary). */
import { mkdir } from 'node:fs/promises';
import { freePort } from '../../../src/promql/testing/net.js';
import { diskUsageBytes, waitUntilStable } from '../disk.js';
import { startProcess } from '../managed-process.js';
import { binaryRuns, packageVersion, type RunningSystem, type SystemKind } from './system.js';

const BINARY = 'victoria-metrics';

/** Sum of a metric's samples in a Prometheus text exposition. */
function metricSum(exposition: string, name: string): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

export function victoriaMetrics(): SystemKind {
  return {
    label: 'VictoriaMetrics',
    name: 'victoriametrics',
    unavailable: () => (binaryRuns(BINARY, '-version') ? undefined : `${BINARY} is not on PATH`),
    version: () => packageVersion(BINARY),
    start: async (dataDir) => {
      await mkdir(dataDir, { recursive: true });
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const args = [
        `-storageDataPath=${dataDir}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-retentionPeriod=1',
        '-loggerLevel=WARN',
        // Queries are timed repeatedly: no response cache, and the newest samples visible at once.
        '-search.disableCache',
        '-search.latencyOffset=0s',
      ];
      const proc = await startProcess({ command: BINARY, args, readyUrl: `${baseUrl}/health`, readyTimeoutMs: 60_000 });
      const running: RunningSystem = {
        name: 'victoriametrics',
        baseUrl,
        pid: proc.pid,
        dataDir,
        writePath: '/api/v1/write',
        log: proc.log,
        stop: () => proc.stop(),
        flushAndMeasureDisk: async () => {
          await get(`${baseUrl}/internal/force_flush`);
          await get(`${baseUrl}/internal/force_merge`);
          // force_merge returns at once and merges in the background: wait for no active merge and a steady size.
          const deadline = Date.now() + 300_000;
          while (Date.now() < deadline && metricSum(await get(`${baseUrl}/metrics`), 'vm_active_merges') > 0) await new Promise((r) => setTimeout(r, 500));
          const bytes = await waitUntilStable(() => diskUsageBytes(dataDir), 1000, 60_000);
          return { bytes, what: 'data dir after force_flush and force_merge', also: [] };
        },
      };
      return running;
    },
  };
}

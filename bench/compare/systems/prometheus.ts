/** Prometheus (the `prometheus` binary) with its remote write receiver and admin API on. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../../../src/promql/testing/net.js';
import { prometheusOnPath } from '../../../src/promql/testing/prometheus-process.js';
import { diskUsageBytes } from '../disk.js';
import { startProcess } from '../managed-process.js';
import { packageVersion, type RunningSystem, type SystemKind } from './system.js';

/**
 * No scrape jobs. The out-of-order window only matters if one connection falls more than an hour
 * of data behind the others, which would otherwise fail the request as out of bounds.
 */
const CONFIG = 'global:\n  scrape_interval: 15s\nstorage:\n  tsdb:\n    out_of_order_time_window: 1d\n';

interface SnapshotAnswer {
  readonly status: string;
  readonly data?: { readonly name?: string };
}

export function prometheus(): SystemKind {
  return {
    label: 'Prometheus',
    name: 'prometheus',
    unavailable: () => (prometheusOnPath() ? undefined : 'prometheus is not on PATH'),
    version: () => packageVersion('prometheus'),
    start: async (dataDir) => {
      await mkdir(dataDir, { recursive: true });
      const configFile = path.join(dataDir, '..', `${path.basename(dataDir)}.prometheus.yml`);
      await writeFile(configFile, CONFIG);
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const args = [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--web.enable-admin-api',
        '--storage.tsdb.retention.time=30d',
        '--log.level=warn',
      ];
      const proc = await startProcess({ command: 'prometheus', args, readyUrl: `${baseUrl}/-/ready`, readyTimeoutMs: 180_000 });
      const running: RunningSystem = {
        name: 'prometheus',
        baseUrl,
        pid: proc.pid,
        dataDir,
        writePath: '/api/v1/write',
        log: proc.log,
        stop: () => proc.stop(),
        flushAndMeasureDisk: async () => {
          // A snapshot with the head writes head and blocks as persistent blocks: the size Prometheus settles at, WAL excluded.
          const res = await fetch(`${baseUrl}/api/v1/admin/tsdb/snapshot?skip_head=false`, { method: 'POST', signal: AbortSignal.timeout(600_000) });
          const answer = (await res.json()) as SnapshotAnswer;
          const name = answer.data?.name;
          if (res.status !== 200 || name === undefined) throw new Error(`snapshot failed: ${res.status} ${JSON.stringify(answer)}`);
          const snapshotDir = path.join(dataDir, 'snapshots', name);
          const blocks = await diskUsageBytes(snapshotDir);
          const whole = await diskUsageBytes(dataDir, new Set([path.join(dataDir, 'snapshots')]));
          await rm(path.join(dataDir, 'snapshots'), { recursive: true, force: true });
          return { bytes: blocks, what: 'blocks (snapshot of head and blocks, WAL excluded)', also: [{ what: 'whole data dir with WAL', bytes: whole }] };
        },
      };
      return running;
    },
  };
}

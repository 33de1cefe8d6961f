/**
 * FlareDB restarted on the same address: a gateway's first request after it is back succeeds. While
 * it was down, the gateway's gRPC channel failed to reconnect again and again and waits out a
 * reconnect backoff (up to 2 s); a call must wait for the channel within its deadline rather than
 * fail at once with 503.
 */
import { expect } from 'chai';
import { startDevServer, type DevServer } from '@metricstor/flaredb-client';
import { Registry } from 'prom-client';
import { NOOP_LOGGER } from '../../src/observability/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { tempDir } from '../helpers/tmp.js';

/** The product's default deadline of one KV call. */
const REQUEST_TIMEOUT_MS = 5000;
/** Down long enough for the channel's reconnect backoff to reach its cap (0.2 s doubling to 2 s). */
const DOWN_MS = 5000;
/** A request makes a few KV calls one after another, each with its own deadline. */
const DOWN_ANSWER_BUDGET_MS = 3 * REQUEST_TIMEOUT_MS;

const METRIC = 'flaredb_restart_probe';

async function importSample(base: string, value: number, timestampMs: number, metric = METRIC): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}/api/v1/import/prometheus?timestamp=${timestampMs}`, {
    method: 'POST',
    body: `${metric}{job="restart"} ${value}\n`,
    signal: AbortSignal.timeout(2 * DOWN_ANSWER_BUDGET_MS),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - started };
}

/** The probe's raw samples up to `endMs` as `ts=value`, or the status when it is not 200. */
async function probeSamples(base: string, endMs: number): Promise<{ status: number; samples: string[] }> {
  const params = new URLSearchParams({ query: `${METRIC}[10m]`, time: String(endMs / 1000) });
  const res = await fetch(`${base}/api/v1/query?${params}`, { signal: AbortSignal.timeout(2 * DOWN_ANSWER_BUDGET_MS) });
  const body = (await res.json()) as { data?: { result?: { values: [number, string][] }[] } };
  const samples = (body.data?.result ?? []).flatMap((r) => r.values.map(([t, v]) => `${Math.round(t * 1000)}=${v}`));
  return { status: res.status, samples };
}

describe('a gateway after FlareDB restarts on the same address', function () {
  this.timeout(90_000);
  let dataDir: string;
  let flaredb: DevServer | undefined;
  let gateway: RunningServer | undefined;

  before(async () => {
    dataDir = await tempDir('flaredb-restart-data');
    flaredb = await startDevServer({ dataDir, sync: false });
    const base = testConfig(await tempDir('flaredb-restart-gateway'));
    gateway = await startServer(
      {
        ...base,
        storage: {
          ...base.storage,
          backend: 'flaredb',
          flaredb: { endpoints: [flaredb.address], requestTimeoutMs: REQUEST_TIMEOUT_MS },
        },
      },
      { registry: new Registry(), logger: NOOP_LOGGER },
    );
  });
  after(async () => {
    await gateway?.close();
    await flaredb?.close();
  });

  /** Stops FlareDB, checks that requests answer 503 within their budget meanwhile, and starts it again on the same port and data. */
  async function restartFlareDb(base: string, timestampMs: number): Promise<void> {
    const address = flaredb!.address;
    await flaredb!.close();
    flaredb = undefined;
    const downSince = Date.now();
    for (let i = 0; i < 50 && Date.now() - downSince < DOWN_MS; i++) {
      // Another series: a write answered 503 may still be kept (as for any 5xx, the sender retries it).
      const refused = await importSample(base, i, timestampMs + i, 'flaredb_restart_while_down');
      expect(refused.status).to.equal(503);
      expect(refused.ms, `503 after ${refused.ms} ms`).to.be.below(DOWN_ANSWER_BUDGET_MS);
    }
    flaredb = await startDevServer({ address, dataDir, sync: false });
  }

  it('answers the first query and the first write after each restart', async () => {
    const base = `http://${gateway!.httpAddress}`;
    const t0 = Date.now() - 60_000;
    expect((await importSample(base, 1, t0)).status).to.equal(204);

    await restartFlareDb(base, t0 + 1000);
    const firstQuery = await probeSamples(base, t0 + 1000);
    expect(firstQuery.status).to.equal(200);
    expect(firstQuery.samples).to.deep.equal([`${t0}=1`]);

    await restartFlareDb(base, t0 + 2000);
    const firstWrite = await importSample(base, 2, t0 + 2000);
    expect(firstWrite.status).to.equal(204);
    expect((await probeSamples(base, t0 + 2000)).samples).to.deep.equal([`${t0}=1`, `${t0 + 2000}=2`]);
  });
});

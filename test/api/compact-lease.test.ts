/** POST /api/v1/admin/tsdb/compact on two gateways sharing one FlareDB: only the compaction lease holder compacts. */
import { expect } from 'chai';
import { startDevServer, type DevServer } from '@metricstor/flaredb-client';
import { Registry } from 'prom-client';
import { NOOP_LOGGER } from '../../src/observability/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from './config.js';

async function gateway(flaredb: DevServer, name: string): Promise<RunningServer> {
  const base = testConfig(await tempDir(`compact-lease-${name}`));
  return startServer(
    { ...base, storage: { ...base.storage, backend: 'flaredb', flaredb: { endpoints: [flaredb.address] } } },
    { registry: new Registry(), logger: NOOP_LOGGER },
  );
}

async function waitForCompactionLease(server: RunningServer, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (server.maintenance.status().find((s) => s.name === 'compaction')?.leaseHeld === true) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('/api/v1/admin/tsdb/compact with two gateways on one FlareDB', function () {
  this.timeout(30_000);
  let flaredb: DevServer;
  const servers: RunningServer[] = [];

  before(async () => {
    flaredb = await startDevServer({ sync: false });
  });
  after(async () => {
    for (const s of servers) await s.close();
    await flaredb.close();
  });

  it('compacts on the lease holder and answers 503 unavailable naming the holder on the other', async () => {
    const holder = await gateway(flaredb, 'a');
    servers.push(holder);
    expect(await waitForCompactionLease(holder, 10_000)).to.equal(true);
    const other = await gateway(flaredb, 'b');
    servers.push(other);

    const refused = await fetch(`http://${other.httpAddress}/api/v1/admin/tsdb/compact`, { method: 'POST' });
    expect(refused.status).to.equal(503);
    const body = (await refused.json()) as { status: string; errorType: string; error: string };
    expect(body.status).to.equal('error');
    expect(body.errorType).to.equal('unavailable');
    expect(body.error).to.contain(`held by writer-${holder.storage.writerId.toString(16)}`);
    expect(other.maintenance.status().find((s) => s.name === 'compaction')?.leaseHeld).to.equal(false);

    const done = await fetch(`http://${holder.httpAddress}/api/v1/admin/tsdb/compact`, { method: 'POST' });
    expect(done.status).to.equal(200);
    const answer = (await done.json()) as { data: { compaction: { complete: boolean } } };
    expect(answer.data.compaction.complete).to.equal(true);
  });
});

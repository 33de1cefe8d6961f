/** The write-ahead log's counters on /metrics: present with the embedded backend, absent with FlareDB. */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { startDevServer, type DevServer } from '@metricstor/flaredb-client';
import { NOOP_LOGGER } from '../../src/observability/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { tempDir } from '../helpers/tmp.js';

const WAL_COUNTERS = ['metricstor_wal_syncs_total', 'metricstor_wal_records_total', 'metricstor_wal_bytes_total', 'metricstor_wal_segments_created_total'];

/** Sample values of a text exposition by `name{labels}` as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function importLines(base: string, body: string): Promise<void> {
  const res = await fetch(`${base}/api/v1/import/prometheus?timestamp=${Date.now()}`, { method: 'POST', body });
  expect(res.status).to.equal(204);
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).to.equal(200);
  return res.text();
}

describe('write-ahead log metrics', function () {
  this.timeout(20_000);

  it('counts syncs, records, bytes and segments of the file log with the embedded backend', async () => {
    const server = await startServer(testConfig(await tempDir('wal-metrics')), { registry: new Registry(), logger: NOOP_LOGGER });
    try {
      const base = `http://${server.httpAddress}`;
      const before = samples(await scrape(base));
      for (const name of WAL_COUNTERS) expect(before.get(name), name).to.be.a('number');

      await importLines(base, 'wal_probe{i="1"} 1\nwal_probe{i="2"} 2\n');
      await importLines(base, 'wal_probe{i="1"} 3\n');
      const text = await scrape(base);
      const after = samples(text);
      const walNow = server.storage.walCounters!;
      expect(after.get('metricstor_wal_records_total')).to.equal(walNow.records);
      expect(after.get('metricstor_wal_syncs_total')).to.equal(walNow.syncs);
      expect(after.get('metricstor_wal_bytes_total')).to.equal(walNow.bytes);
      expect(after.get('metricstor_wal_segments_created_total')).to.equal(walNow.segmentsCreated);
      expect(after.get('metricstor_wal_records_total')! - before.get('metricstor_wal_records_total')!).to.be.at.least(2);
      expect(after.get('metricstor_wal_syncs_total')! - before.get('metricstor_wal_syncs_total')!).to.be.at.least(1);
      expect(after.get('metricstor_wal_bytes_total')!).to.be.greaterThan(before.get('metricstor_wal_bytes_total')!);
      expect(after.get('metricstor_wal_segments_created_total')).to.be.at.least(1);
      for (const name of WAL_COUNTERS) {
        expect(text).to.contain(`# TYPE ${name} counter`);
        expect(text).to.match(new RegExp(`^# HELP ${name} \\S`, 'm'));
      }
    } finally {
      await server.close();
    }
  });

  describe('with the FlareDB backend', () => {
    let flaredb: DevServer;
    let server: RunningServer | undefined;

    before(async () => {
      flaredb = await startDevServer({ sync: false });
    });
    after(async () => {
      await server?.close();
      await flaredb.close();
    });

    it('leaves them out: the log is in the KV, so there is nothing to count', async () => {
      const base = testConfig(await tempDir('wal-metrics-flaredb'));
      server = await startServer(
        { ...base, storage: { ...base.storage, backend: 'flaredb', flaredb: { endpoints: [flaredb.address] } } },
        { registry: new Registry(), logger: NOOP_LOGGER },
      );
      expect(server.storage.walCounters).to.equal(null);
      const url = `http://${server.httpAddress}`;
      await importLines(url, 'wal_probe{i="1"} 1\n');
      const text = await scrape(url);
      expect(samples(text).get('metricstor_ingested_samples_total{protocol="import"}')).to.equal(1);
      for (const name of WAL_COUNTERS) expect(text).not.to.contain(name);
    });
  });
});

/** The composition root: what startServer builds, and that close() takes it all down. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { startServer } from '../../src/server.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from './config.js';

describe('startServer', function () {
  this.timeout(20_000);

  it('keeps its KV in the data directory, runs maintenance, and closes everything', async () => {
    const dataDir = await tempDir('server');
    const server = await startServer(testConfig(dataDir));
    const base = `http://${server.httpAddress}`;
    try {
      expect(server.httpAddress).to.match(/^127\.0\.0\.1:\d+$/);
      expect((await fetch(`${base}/-/ready`)).status).to.equal(200);
      expect((await readdir(dataDir)).sort()).to.deep.equal(['kv', 'wal', 'writer-id']);
      expect(await readdir(path.join(dataDir, 'kv'))).to.not.deep.equal([]);
      const deadline = Date.now() + 10_000;
      const ran = (): boolean =>
        server.maintenance.status().every((job) => job.runs >= 1 && job.lastError === null);
      while (!ran() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(server.maintenance.status().map((job) => job.name).sort()).to.deep.equal(['compaction', 'retention']);
      expect(ran(), JSON.stringify(server.maintenance.status())).to.equal(true);
    } finally {
      await server.close();
    }
    expect(await server.storage.ready()).to.equal(false);
    const refused = await fetch(`${base}/-/healthy`).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
    // The same directory opens again once the first server has let go of it.
    const again = await startServer(testConfig(dataDir));
    await again.close();
  });

  it('fails to start when the address is taken, and lets go of its data directory', async () => {
    const first = await startServer(testConfig(await tempDir('server-a')));
    const config = testConfig(await tempDir('server-b'));
    try {
      const taken = { ...config, server: { ...config.server, httpAddr: first.httpAddress } };
      let failed = false;
      await startServer(taken).then(
        (s) => s.close(),
        () => {
          failed = true;
        },
      );
      expect(failed).to.equal(true);
    } finally {
      await first.close();
    }
    const retry = await startServer(config);
    await retry.close();
  });
});

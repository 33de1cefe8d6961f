/** POST /api/v1/admin/tsdb/compact on a real server with the embedded KV. */
import { expect } from 'chai';
import { startServer } from '../../src/server.js';
import { labels } from '../storage/maintenance/fixture.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from './config.js';
import { appendBatchOf } from '../../src/storage/append-batch.js';

const HOUR_MS = 3_600_000;

interface CompactAnswer {
  status: string;
  data: {
    compaction: { complete: boolean; windowsCompacted: number; windowsWithOpenChunks: number };
    reclaim: { rewritten: boolean; before: { fileBytes: number }; after: { fileBytes: number } };
  };
}

describe('/api/v1/admin/tsdb/compact', function () {
  this.timeout(30_000);

  it('compacts everything written so far, answers with what it did, and queries answer the same', async () => {
    const server = await startServer(testConfig(await tempDir('server-compact')));
    const base = `http://${server.httpAddress}`;
    try {
      const startMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 6 * HOUR_MS;
      const n = (6 * HOUR_MS) / 15_000;
      const timestamps = Float64Array.from({ length: n }, (_, i) => startMs + i * 15_000);
      await server.storage.append(
        appendBatchOf(Array.from({ length: 20 }, (_, k) => ({
          labels: labels({ __name__: 'node_cpu_seconds_total', cpu: String(k), job: 'node' }),
          timestamps,
          values: Float64Array.from({ length: n }, (_, i) => Math.round((k + i * 1.37) * 100) / 100),
        }))),
      );
      const query = `${base}/api/v1/query_range?query=${encodeURIComponent('rate(node_cpu_seconds_total[5m])')}&start=${startMs / 1000}&end=${(startMs + 6 * HOUR_MS) / 1000}&step=60`;
      const before = await (await fetch(query)).text();
      expect(JSON.parse(before).data.result).to.have.length(20);

      const get = await fetch(`${base}/api/v1/admin/tsdb/compact`);
      expect(get.status).to.equal(405);
      const res = await fetch(`${base}/api/v1/admin/tsdb/compact`, { method: 'POST' });
      expect(res.status).to.equal(200);
      const answer = (await res.json()) as CompactAnswer;
      expect(answer.status).to.equal('success');
      expect(answer.data.compaction.complete).to.equal(true);
      expect(answer.data.compaction.windowsWithOpenChunks).to.equal(0);
      expect(answer.data.compaction.windowsCompacted).to.be.at.least(60);
      // Windows were rewritten, so the file is rewritten too, however few of its pages are free.
      expect(answer.data.reclaim.rewritten).to.equal(true);
      expect(answer.data.reclaim.after.fileBytes).to.be.at.most(answer.data.reclaim.before.fileBytes);

      expect(await (await fetch(query)).text()).to.equal(before);
    } finally {
      await server.close();
    }
  });
});

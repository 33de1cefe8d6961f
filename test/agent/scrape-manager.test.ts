import { expect } from 'chai';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAgentConfig } from '../../src/agent/config.js';
import type { SampleBatch } from '../../src/agent/samples.js';
import { ScrapeManager } from '../../src/agent/scrape-manager.js';
import { labelsKey } from '../../src/agent/samples.js';
import { isStaleAt } from '../../src/model/value.js';
import { tempDir } from '../helpers/tmp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('agent scrape manager', function () {
  this.timeout(10_000);

  it('writes end-of-run markers for a removed target, but not for one that comes straight back', async () => {
    const dir = await tempDir('agent-manager');
    const sd = path.join(dir, 'sd.json');
    const put = async (targets: string[]): Promise<void> => {
      await writeFile(`${sd}.tmp`, JSON.stringify([{ targets }]));
      await rename(`${sd}.tmp`, sd);
    };
    await put(['a:1', 'b:2']);
    const config = parseAgentConfig(
      `scrape_configs:\n  - job_name: j\n    scrape_interval: 200ms\n    scrape_timeout: 100ms\n    file_sd_configs: [{files: [${JSON.stringify(sd)}]}]\n`,
      dir,
    ).scrapeConfigs[0]!;
    const batches: SampleBatch[] = [];
    const manager = new ScrapeManager([config], {
      sink: { append: (b) => batches.push(b) },
      fileSdPollMs: 20,
      makeScraper: () => ({ scrape: () => Promise.resolve({ body: 'v 1\n', format: 'prometheus' }), close: () => undefined }),
    });
    manager.start();
    try {
      await sleep(500);
      await put(['b:2']); // a goes away for good; b goes away and comes back at once
      await sleep(60);
      await put([]);
      await sleep(60);
      await put(['b:2']);
      await sleep(1200); // a's markers are due ~2.1 intervals after it left
      const stale = new Set<string>();
      for (const b of batches) for (let i = 0; i < b.series.length; i++) if (isStaleAt(b.values, i)) stale.add(labelsKey(b.series[i]!));
      const staleInstances = [...stale].map((k) => /instance\u0000([^\u0000]*)/.exec(k)![1]);
      expect([...new Set(staleInstances)]).to.deep.equal(['a:1']);
      expect(stale.size).to.equal(6); // v and the five synthetic series
      expect(manager.targets().get('j')!.map((t) => t.url)).to.deep.equal(['http://b:2/metrics']);
    } finally {
      await manager.stop();
    }
  });
});

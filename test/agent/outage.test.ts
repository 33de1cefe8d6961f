/**
 * Metricstor goes away while the agent scrapes; the agent queues, is restarted with queue_dir
 * in between, and once Metricstor is back every scrape is in it.
 */
import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { parseAgentConfig } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { startTarget } from './targets.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function counterSum(agent: RunningAgent, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = await agent.metrics.registry.getMetricsAsJSON();
  const values = json.find((m) => m.name === name)?.values ?? [];
  return values.filter((v) => Object.entries(labels).every(([k, lv]) => v.labels[k] === lv)).reduce((n, v) => n + v.value, 0);
}

describe('agent during a Metricstor outage', function () {
  this.timeout(30_000);
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('queues while Metricstor is down, keeps the queue across an agent restart, then delivers every scrape', async () => {
    const target = await startTarget('outage_value{k="v"} 1\n');
    cleanups.push(() => target.close());
    const port = await freePort();
    const dataDir = await tempDir('agent-outage-data');
    const base = testConfig(dataDir);
    const serverConfig = { ...base, server: { ...base.server, httpAddr: `127.0.0.1:${port}` } };
    let server: RunningServer | undefined = await startServer(serverConfig);
    cleanups.push(async () => server?.close());
    const queueDir = await tempDir('agent-outage-queue');
    const config = parseAgentConfig(
      [
        `queue_dir: ${JSON.stringify(queueDir)}`,
        'scrape_configs:',
        '  - job_name: outage',
        '    scrape_interval: 200ms',
        '    scrape_timeout: 100ms',
        `    static_configs: [{targets: [${JSON.stringify(target.address)}]}]`,
        'remote_write:',
        `  - url: http://127.0.0.1:${port}/api/v1/write`,
        '    queue_config: {batch_send_deadline: 100ms, min_backoff: 50ms, max_backoff: 200ms}',
        '',
      ].join('\n'),
      queueDir,
    );

    const first = await startAgent(config, { flushTimeoutMs: 300 });
    await sleep(1000);
    await server.close();
    server = undefined;
    await sleep(1500);
    await first.stop();
    const firstScrapes = await counterSum(first, 'metricstor_agent_scrapes_total', { result: 'success' });
    expect(await counterSum(first, 'metricstor_agent_samples_retried_total')).to.be.greaterThan(0);
    expect(await readdir(queueDir)).to.deep.equal([`127.0.0.1_${port}.queue.jsonl`]);

    const second = await startAgent(config, { flushTimeoutMs: 2000 });
    cleanups.push(() => second.stop());
    await sleep(1000);
    server = await startServer(serverConfig);
    const deadline = Date.now() + 10_000;
    while (second.writers[0]!.queuedSamples > 0 || (await counterSum(second, 'metricstor_agent_samples_sent_total')) === 0) {
      if (Date.now() > deadline) throw new Error('the queue did not drain');
      await sleep(100);
    }
    await second.stop();
    const secondScrapes = await counterSum(second, 'metricstor_agent_scrapes_total', { result: 'success' });
    for (const agent of [first, second]) {
      expect(await counterSum(agent, 'metricstor_agent_samples_dropped_total')).to.equal(0);
    }

    expect(firstScrapes).to.be.greaterThan(4);
    expect(secondScrapes).to.be.greaterThan(2);
    for (const query of ['count_over_time(outage_value[1m])', 'count_over_time(up[1m])']) {
      const url = `http://127.0.0.1:${port}/api/v1/query?${new URLSearchParams({ query, time: String(Date.now() / 1000) })}`;
      const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
      expect(body.data.result.map((r) => Number(r.value[1])), query).to.deep.equal([firstScrapes + secondScrapes]);
    }
  });
});

import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parseAgentConfig } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { requireOpenssl, sharedTestPki } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';
import { startFakeReceiver, type FakeReceiver } from './fake-receiver.js';
import { startTarget, type TestTarget } from './targets.js';

describe('agent process: mTLS towards the receiver and its own /metrics', function () {
  this.timeout(20_000);
  let receiver: FakeReceiver | undefined;
  let target: TestTarget | undefined;
  let agent: RunningAgent | undefined;

  before(function () {
    requireOpenssl(this);
  });

  after(async () => {
    await agent?.stop();
    await receiver?.close();
    await target?.close();
  });

  it('sends over mutual TLS and reports scrapes, samples and the queue', async () => {
    const pki = await sharedTestPki();
    const [cert, key, ca] = await Promise.all([readFile(pki.server.certFile), readFile(pki.server.keyFile), readFile(pki.ca.certFile)]);
    receiver = await startFakeReceiver(() => ({ status: 204 }), { cert, key, ca });
    target = await startTarget('a 1\nb{x="y"} 2\n');
    const config = parseAgentConfig(
      [
        'listen_addr: 127.0.0.1:0',
        'scrape_configs:',
        '  - job_name: j',
        '    scrape_interval: 200ms',
        '    scrape_timeout: 100ms',
        `    static_configs: [{targets: [${JSON.stringify(target.address)}]}]`,
        'remote_write:',
        `  - url: ${receiver.url}`,
        '    name: main',
        '    queue_config: {batch_send_deadline: 50ms}',
        '    tls_config:',
        `      ca_file: ${JSON.stringify(pki.ca.certFile)}`,
        `      cert_file: ${JSON.stringify(pki.writer.certFile)}`,
        `      key_file: ${JSON.stringify(pki.writer.keyFile)}`,
        '',
      ].join('\n'),
      await tempDir('agent-proc'),
    );
    agent = await startAgent(config);
    const deadline = Date.now() + 5000;
    while (receiver.accepted().length < 14) {
      if (Date.now() > deadline) throw new Error('nothing arrived');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(receiver.requests[0]!.clientCn).to.equal('writer.metricstor.test');
    const series = new Set(receiver.accepted().map((s) => s.series));
    expect(series).to.include('a{instance="' + target.address + '", job="j"}');
    expect(series).to.include('up{instance="' + target.address + '", job="j"}');
    const text = await (await fetch(`${agent.url!}/metrics`)).text();
    expect(text).to.match(/metricstor_agent_scrapes_total\{job="j",result="success"\} [1-9]/);
    expect(text).to.match(/metricstor_agent_samples_scraped_total\{job="j"\} [1-9]/);
    expect(text).to.match(/metricstor_agent_samples_sent_total\{remote="main"\} [1-9]/);
    expect(text).to.match(/metricstor_agent_queue_samples\{remote="main"\} \d/);
    expect(text).to.match(/metricstor_agent_queue_bytes\{remote="main"\} \d/);
    expect(text).to.match(/metricstor_agent_targets\{job="j"\} 1/);
    expect((await fetch(`${agent.url!}/-/healthy`)).status).to.equal(200);
  });

  it('refuses a config without a receiver, and reports bad keys with their path', async () => {
    expect(() => parseAgentConfig('scrape_configs:\n  - job_name: a\n    scrape_intervall: 1s\n', '/')).to.throw(/scrape_configs\[0\]\.scrape_intervall: unknown key/);
    expect(() => parseAgentConfig('scrape_configs:\n  - job_name: a\n    scrape_interval: 1s\n    scrape_timeout: 2s\n', '/')).to.throw(/greater than scrape_interval/);
    try {
      await startAgent(parseAgentConfig('scrape_configs: []\n', '/'));
      expect.fail('started without remote_write');
    } catch (err) {
      expect(String(err)).to.match(/remote_write/);
    }
  });
});

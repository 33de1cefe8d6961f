/**
 * The agent against Debian's Prometheus: the same targets (steady, one whose server dies, one
 * removed from its file_sd file, one slow beyond the timeout, one over mutual TLS, one serving
 * garbage) scraped by both with the same settings; then the same PromQL on both must agree.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAgentConfig } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { prometheusOnPath } from '../../src/promql/testing/prometheus-process.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { requireOpenssl, sharedTestPki } from '../helpers/certs.js';
import { freePort, waitForHttp } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from '../api/config.js';
import { startTarget, type TestTarget } from './targets.js';

const STEADY = [
  '# TYPE app_requests_total counter',
  'app_requests_total{path="/a"} 10',
  'app_requests_total{path="/b"} 20',
  'app_temp{sensor="s1"} 21.5',
  'app_info{job="exported",instance="other"} 1',
  'app_drop_me 5',
  'app_flaky 7',
  '',
].join('\n');
const STEADY_LATER = STEADY.replace('app_flaky 7\n', '');

interface PromVector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function instant(baseUrl: string, query: string, timeS: number): Promise<string[]> {
  const res = await fetch(`${baseUrl}/api/v1/query?${new URLSearchParams({ query, time: String(timeS) })}`);
  const body = (await res.json()) as PromVector;
  if (body.status !== 'success') throw new Error(`${baseUrl} ${query}: ${JSON.stringify(body)}`);
  if (body.data.resultType === 'scalar') return [String((body.data.result as unknown as [number, string])[1])];
  return body.data.result
    .map((s) => `${JSON.stringify(Object.entries(s.metric).sort())} ${s.value[1]}`)
    .sort();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('agent end to end against Prometheus', function () {
  this.timeout(60_000);
  const cleanups: (() => Promise<void>)[] = [];
  let metricstorUrl = '';
  let promUrl = '';
  let endS = 0;
  let agent: RunningAgent | undefined;

  before(async function () {
    if (!prometheusOnPath()) {
      if (process.env['CI'] === 'true') throw new Error('prometheus must be installed in CI');
      process.stderr.write('SKIPPING agent end-to-end test: prometheus is not installed\n');
      this.skip();
    }
    requireOpenssl(this);
    const pki = await sharedTestPki();
    const [serverCert, serverKey, caCert] = await Promise.all([
      readFile(pki.server.certFile),
      readFile(pki.server.keyFile),
      readFile(pki.ca.certFile),
    ]);
    const dir = await tempDir('agent-e2e');
    const targets: Record<string, TestTarget> = {
      steady: await startTarget(STEADY),
      dies: await startTarget('app_b_value{kind="dies"} 3\n'),
      removed: await startTarget('app_c_value 4\n'),
      slow: await startTarget('app_slow 1\n', { delayMs: 2000 }),
      tls: await startTarget('app_tls_value 9\n', { tls: { cert: serverCert, key: serverKey, ca: caCert } }),
      garbage: await startTarget('this is { not metrics\n'),
    };
    for (const t of Object.values(targets)) cleanups.push(() => t.close());
    const sdFile = path.join(dir, 'sd.json');
    const sdGroups = (withRemoved: boolean): string =>
      JSON.stringify([
        { targets: [targets['steady']!.address, targets['dies']!.address], labels: { role: 'web' } },
        ...(withRemoved ? [{ targets: [targets['removed']!.address], labels: { role: 'batch' } }] : []),
        { targets: [targets['slow']!.address, targets['garbage']!.address], labels: { role: 'odd' } },
      ]);
    const writeSd = async (withRemoved: boolean): Promise<void> => {
      // Written aside and renamed, so neither reader ever sees half a file.
      await writeFile(`${sdFile}.tmp`, sdGroups(withRemoved));
      await rename(`${sdFile}.tmp`, sdFile);
    };
    await writeSd(true);

    const metricstor: RunningServer = await startServer(testConfig(await tempDir('agent-e2e-ms')));
    cleanups.push(() => metricstor.close());
    metricstorUrl = `http://${metricstor.httpAddress}`;

    // One scrape config text for both; the agent's file adds remote_write.
    const scrapeConfigs = [
      'scrape_configs:',
      '  - job_name: apps',
      '    scrape_interval: 1s',
      '    scrape_timeout: 500ms',
      '    file_sd_configs:',
      `      - files: [${JSON.stringify(sdFile)}]`,
      '        refresh_interval: 1s',
      '    relabel_configs:',
      "      - {source_labels: [__address__], regex: '127\\.0\\.0\\.1:(\\d+)', target_label: port, replacement: 'p$1'}",
      '      - {source_labels: [role], target_label: tier}',
      '      - {regex: role, action: labeldrop}',
      '    metric_relabel_configs:',
      "      - {source_labels: [__name__], regex: 'app_drop_.*', action: drop}",
      "      - {regex: '(sensor)', action: labelmap, replacement: 'probe_$1'}",
      '  - job_name: secure',
      '    scheme: https',
      '    scrape_interval: 1s',
      '    scrape_timeout: 500ms',
      '    tls_config:',
      `      ca_file: ${JSON.stringify(pki.ca.certFile)}`,
      `      cert_file: ${JSON.stringify(pki.writer.certFile)}`,
      `      key_file: ${JSON.stringify(pki.writer.keyFile)}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(targets['tls']!.address)}]`,
      '        labels: {role: secure}',
      '',
    ].join('\n');
    const promDir = await tempDir('agent-e2e-prom');
    const promConfig = path.join(promDir, 'prometheus.yml');
    await writeFile(promConfig, `global:\n  scrape_interval: 1s\n${scrapeConfigs}`);
    const promPort = await freePort();
    const prom: ChildProcess = spawn(
      'prometheus',
      [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${path.join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=error',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const promExited = new Promise<void>((resolve) => prom.once('exit', () => resolve()));
    cleanups.push(async () => {
      prom.kill('SIGTERM');
      await promExited;
    });
    promUrl = `http://127.0.0.1:${promPort}`;

    const agentConfig = parseAgentConfig(
      `${scrapeConfigs}remote_write:\n  - url: ${metricstorUrl}/api/v1/write\n    queue_config: {batch_send_deadline: 200ms}\n`,
      dir,
    );
    agent = await startAgent(agentConfig, { fileSdPollMs: 200, flushTimeoutMs: 2000 });
    cleanups.push(() => agent!.stop());
    await waitForHttp(`${promUrl}/-/ready`, 20_000);

    // Prometheus applies discovered targets on a 5 s tick: wait until it scrapes all six.
    await until(async () => (await instant(promUrl, 'up', Date.now() / 1000)).length === 6, 20_000);
    // Both scrape for a while, then one series, one server and one file_sd target go away.
    await sleep(3000);
    targets['steady']!.setBody(STEADY_LATER);
    await targets['dies']!.close();
    await writeSd(false);
    // Prometheus notices the removal within two 5 s ticks; stale markers follow two intervals later.
    await until(async () => (await instant(promUrl, 'up{tier="batch"}', Date.now() / 1000)).length === 0, 25_000);
    await sleep(1500);
    endS = Date.now() / 1000;
    // Let the agent's last batches arrive.
    await sleep(500);
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  const QUERIES = [
    'up',
    'scrape_samples_scraped',
    'scrape_samples_post_metric_relabeling',
    'count by (job, tier) ({__name__=~"app_.+"})',
    'app_temp',
    'app_info',
    'app_requests_total',
    'app_flaky',
    'absent(app_flaky)',
    'last_over_time(app_flaky[1m])',
    'app_b_value',
    'last_over_time(app_b_value[1m])',
    'app_c_value',
    'up{tier="batch"}',
    'count_over_time(up{tier="batch"}[1m]) > bool 0',
    'app_tls_value',
    'app_drop_me',
  ];

  for (const query of QUERIES) {
    it(`gives what Prometheus gives for ${query}`, async () => {
      const [ours, theirs] = await Promise.all([instant(metricstorUrl, query, endS), instant(promUrl, query, endS)]);
      expect(ours).to.deep.equal(theirs);
    });
  }

  it('sees the cases it is meant to see', async () => {
    const up = await instant(metricstorUrl, 'up', endS);
    // steady 1, dies 0, slow 0, garbage 0, tls 1; the removed target has gone stale.
    expect(up.map((s) => s.slice(-1)).sort()).to.deep.equal(['0', '0', '0', '1', '1']);
    expect(await instant(metricstorUrl, 'app_info', endS)).to.have.length(1);
    expect((await instant(metricstorUrl, 'app_info', endS))[0]).to.include('"exported_job","exported"');
    expect(await instant(metricstorUrl, 'app_temp', endS)).to.have.length(1);
    expect((await instant(metricstorUrl, 'app_temp', endS))[0]).to.include('"probe_sensor","s1"');
    expect(await instant(metricstorUrl, 'last_over_time(app_c_value[1m])', endS)).to.have.length(1);
    expect(await instant(metricstorUrl, 'app_c_value', endS)).to.deep.equal([]);
    const agentMetrics = await agent!.metrics.registry.metrics();
    expect(agentMetrics).to.match(/metricstor_agent_scrapes_total\{job="apps",result="timeout"\} [1-9]/);
    expect(agentMetrics).to.match(/metricstor_agent_scrapes_total\{job="apps",result="parse_error"\} [1-9]/);
  });
});

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForHttp } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { startFakeReceiver } from './fake-receiver.js';
import { startTarget } from './targets.js';

function exitOf(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the agent did not exit in time'));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('metricstor agent command', function () {
  this.timeout(30_000);

  it('runs from a config file, serves /metrics, pushes, and exits 0 on SIGTERM; usage errors exit 2', async () => {
    const receiver = await startFakeReceiver(() => ({ status: 200 }));
    const target = await startTarget('cli_value 1\n');
    try {
      const dir = await tempDir('agent-cli');
      const port = await freePort();
      const file = path.join(dir, 'agent.yaml');
      await writeFile(
        file,
        [
          `listen_addr: 127.0.0.1:${port}`,
          'scrape_configs:',
          '  - job_name: cli',
          '    scrape_interval: 200ms',
          '    scrape_timeout: 100ms',
          `    static_configs: [{targets: [${JSON.stringify(target.address)}]}]`,
          'remote_write:',
          `  - url: ${receiver.url}`,
          '    queue_config: {batch_send_deadline: 50ms}',
          '',
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = exitOf(child, 25_000);
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      await waitForHttp(`http://127.0.0.1:${port}/-/healthy`, 15_000);
      const deadline = Date.now() + 5000;
      while (!receiver.accepted().some((s) => s.series.startsWith('cli_value{'))) {
        if (Date.now() > deadline) throw new Error('nothing pushed');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).to.contain('metricstor_agent_scrapes_total{job="cli",result="success"}');
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(stdout).to.contain('"msg":"agent started"');

      const bad = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent'], { stdio: 'ignore' });
      expect(await exitOf(bad, 20_000)).to.equal(2);
    } finally {
      await receiver.close();
      await target.close();
    }
  });
});

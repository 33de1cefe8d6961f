import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { freePort, waitForHttp } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

describe('metricstor serve', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
    child = undefined;
  });

  it('serves /-/healthy on METRICSTOR_HTTP_ADDR', async () => {
    const port = await freePort();
    const dataDir = await tempDir('serve');
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, METRICSTOR_HTTP_ADDR: `127.0.0.1:${port}`, METRICSTOR_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const res = await waitForHttp(`http://127.0.0.1:${port}/-/healthy`, 15000);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/Healthy/);
  });
});

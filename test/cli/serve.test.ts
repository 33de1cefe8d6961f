import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { freePort, waitForHttp } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

function serve(port: number, dataDir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, METRICSTOR_HTTP_ADDR: `127.0.0.1:${port}`, METRICSTOR_GRPC_ADDR: '127.0.0.1:0', METRICSTOR_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('metricstor serve', function () {
  this.timeout(40_000);
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    child = undefined;
  });

  it('serves /-/healthy and /-/ready on METRICSTOR_HTTP_ADDR', async () => {
    const port = await freePort();
    child = serve(port, await tempDir('serve'));
    const res = await waitForHttp(`http://127.0.0.1:${port}/-/healthy`, 15000);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/Healthy/);
    expect((await fetch(`http://127.0.0.1:${port}/-/ready`)).status).to.equal(200);
  });

  it('stops cleanly on SIGTERM and finds its data again after a restart', async () => {
    const port = await freePort();
    const dataDir = await tempDir('serve-restart');
    const base = `http://127.0.0.1:${port}`;
    child = serve(port, dataDir);
    await waitForHttp(`${base}/-/healthy`, 15000);
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const write = await fetch(`${base}/api/v1/import/prometheus?timestamp=${nowMs}`, {
      method: 'POST',
      body: 'restart_probe{run="1"} 42\n',
    });
    expect(write.status).to.equal(204);
    child.kill('SIGTERM');
    expect(await exitCode(child, 15000)).to.equal(0);

    child = serve(port, dataDir);
    await waitForHttp(`${base}/-/healthy`, 15000);
    const res = await fetch(`${base}/api/v1/query?query=restart_probe&time=${nowMs / 1000}`);
    expect(await res.json()).to.deep.equal({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'restart_probe', run: '1' }, value: [nowMs / 1000, '42'] }] },
    });
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { freePort, waitForHttp } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion (bounded by timeoutMs). */
function cli(args: readonly string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`metricstor ${args.join(' ')}: no exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('metricstor CLI against a running server', function () {
  this.timeout(60_000);
  let server: ChildProcess | undefined;
  let serverOut = '';
  let url = '';
  let dir = '';
  const nowS = Math.floor(Date.now() / 1000);

  before(async () => {
    dir = await tempDir('cli');
    const port = await freePort();
    const configFile = path.join(dir, 'metricstor.yaml');
    await writeFile(
      configFile,
      `server:\n  http_addr: 127.0.0.1:${port}\n  grpc_addr: 127.0.0.1:1\nstorage:\n  retention_days: 7\n`,
    );
    url = `http://127.0.0.1:${port}`;
    // The file's gRPC port is overridden by a flag, the data directory comes from the environment.
    server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile, '--server.grpc-addr', '127.0.0.1:0', '--query.timeout=30s'], {
      env: { ...process.env, METRICSTOR_DATA_DIR: path.join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    server.stdout!.on('data', (d: Buffer) => (serverOut += d.toString()));
    await waitForHttp(`${url}/-/ready`, 15_000);
  });

  after(() => {
    if (server && server.exitCode === null) server.kill('SIGTERM');
  });

  it('serve merges file, flags and environment and logs JSON lines', async () => {
    const flags = (await (await fetch(`${url}/api/v1/status/flags`)).json()) as { data: Record<string, string> };
    expect(flags.data['storage.tsdb.retention.time']).to.equal('7d');
    expect(flags.data['query.timeout']).to.equal('30s');
    expect(flags.data['storage.tsdb.path']).to.equal(path.join(dir, 'data'));
    const listening = serverOut
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'listening');
    expect(listening).to.include({ level: 'info', http: url.slice('http://'.length) });
    expect(listening!['ts']).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('imports a Prometheus exposition and a JSON-lines file, then queries them as tables', async () => {
    const prom = path.join(dir, 'in.prom');
    await writeFile(prom, `# TYPE cli_probe gauge\ncli_probe{host="a"} 1.5 ${nowS * 1000}\ncli_probe{host="b"} 2 ${nowS * 1000}\n`);
    const jsonl = path.join(dir, 'in.jsonl');
    const ts = [nowS - 60, nowS - 30, nowS].map((s) => s * 1000);
    await writeFile(
      jsonl,
      `${JSON.stringify({ metric: { __name__: 'cli_series', path: 'a "quoted" one' }, values: [1, 2, 3], timestamps: ts })}\n` +
        `${JSON.stringify({ metric: { __name__: 'cli_series', path: 'b' }, values: [10, 20, 30], timestamps: ts })}\n`,
    );
    // Each spawn pays the TypeScript loader's start-up, so independent runs go in parallel.
    const [imported, importedJsonl] = await Promise.all([
      cli(['import', prom, '--url', url]),
      cli(['import', jsonl, '--format', 'jsonl', '--url', url]),
    ]);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(imported.stdout).to.match(/^imported 2 samples from .*in\.prom/);
    expect(importedJsonl.code, importedJsonl.stderr).to.equal(0);
    expect(importedJsonl.stdout).to.match(/^imported 6 samples /);

    const [instant, range, failed] = await Promise.all([
      cli(['query', 'cli_probe', '--time', String(nowS), '--url', url]),
      cli(['query', 'cli_series{path=~"a.*"}', '--start', String(nowS - 60), '--end', String(nowS), '--step', '30s', '--url', url]),
      cli(['query', 'sum(', '--url', url]),
    ]);
    expect(instant.code, instant.stderr).to.equal(0);
    expect(instant.stdout.split('\n')).to.deep.equal([
      'SERIES               VALUE',
      '-------------------  -----',
      'cli_probe{host="a"}  1.5',
      'cli_probe{host="b"}  2',
      '',
    ]);
    expect(range.code, range.stderr).to.equal(0);
    const t = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
    expect(range.stdout).to.equal(
      `cli_series{path="a \\"quoted\\" one"}  (3 points)\n  ${t(nowS - 60)}  1\n  ${t(nowS - 30)}  2\n  ${t(nowS)}  3\n`,
    );
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.match(/^metricstor: bad_data: .*parse error/);
  });
});

describe('metricstor config check and help', function () {
  this.timeout(30_000);

  it('config check exits 1 with file:line:col for each problem, 0 and OK for a good file; --help prints usage', async () => {
    const dir = await tempDir('cli-check');
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'server:\n  http_addr: nowhere\n  tls:\n    cert_file: /nope/cert.pem\n    key_file: /nope/key.pem\nstorag:\n  x: 1\n');
    const good = path.join(dir, 'good.yaml');
    await writeFile(good, 'server:\n  http_addr: 0.0.0.0:9101\nstorage:\n  retention_days: 30\n');
    const [run, ok, help] = await Promise.all([cli(['config', 'check', bad]), cli(['config', 'check', good]), cli(['--help'])]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain(`${bad}:2:14: server.http_addr: want host:port`);
    expect(run.stderr).to.contain(`${bad}:4:16: server.tls.cert_file: cannot read /nope/cert.pem`);
    expect(run.stderr).to.contain(`${bad}:6:1: unknown setting storag`);
    expect(ok.code).to.equal(0);
    expect(ok.stdout).to.equal(`${good}: OK\n`);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: metricstor <command>/);
    for (const command of ['serve', 'query EXPR', 'import FILE', 'config check FILE']) expect(help.stdout).to.contain(command);
  });
});

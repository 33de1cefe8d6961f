/** Bearer-token and basic auth from files, for deployments without mTLS. */
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { AuthCredentials, scryptPasswordHash, sha256PasswordHash } from '../../src/api/auth-credentials.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from './client.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('bearer and basic auth', function () {
  this.timeout(20_000);
  let server: RunningServer;
  let tokenFile: string;
  let base: string;

  before(async () => {
    const dir = await tempDir('auth');
    tokenFile = path.join(dir, 'tokens');
    const usersFile = path.join(dir, 'users');
    await writeFile(tokenFile, '# rotated monthly\nfirst-token\n\nsecond-token\n');
    await writeFile(
      usersFile,
      `grafana:${sha256PasswordHash('grafana-pw')}\nalice:${await scryptPasswordHash('correct horse', randomBytes(16))}\n`,
    );
    const config = testConfig(await tempDir('auth-data'));
    server = await startServer({ ...config, server: { ...config.server, auth: { bearerTokenFile: tokenFile, basicAuthUsersFile: usersFile } } });
    base = `http://${server.httpAddress}`;
  });

  after(async () => {
    await server?.close();
  });

  const query = (authorization?: string) =>
    fetch(`${base}/api/v1/query?query=1`, authorization === undefined ? {} : { headers: { Authorization: authorization } });

  it('answers 401 with both challenges when credentials are missing or wrong', async () => {
    for (const authorization of [undefined, 'Bearer wrong', 'Bearer first-token-but-longer', basic('grafana', 'nope'), basic('nobody', 'grafana-pw'), 'Digest x']) {
      const res = await query(authorization);
      expect(res.status, String(authorization)).to.equal(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).to.contain('Bearer realm="metricstor"').and.contain('Basic realm="metricstor"');
      expect(((await res.json()) as { errorType: string }).errorType).to.equal('unauthorized');
    }
  });

  it('accepts every listed token and both password hash kinds', async () => {
    for (const authorization of ['Bearer first-token', 'bearer second-token', basic('grafana', 'grafana-pw'), basic('alice', 'correct horse')]) {
      expect((await query(authorization)).status, authorization).to.equal(200);
    }
  });

  it('leaves the health probes open', async () => {
    expect((await fetch(`${base}/-/healthy`)).status).to.equal(200);
    expect((await fetch(`${base}/-/ready`)).status).to.equal(200);
  });

  it('re-reads the token file when it changes', async () => {
    const staging = `${tokenFile}.new`;
    await writeFile(staging, 'third-token\n');
    await rename(staging, tokenFile);
    expect(await eventually(async () => (await query('Bearer third-token')).status === 200, 5000)).to.equal(true);
    expect((await query('Bearer first-token')).status).to.equal(401);
  });
});

describe('AuthCredentials files', () => {
  it('refuses bcrypt hashes, malformed lines and an empty token file at start', async () => {
    const dir = await tempDir('auth-bad');
    const cases: [string, string, RegExp][] = [
      ['users', 'bob:$2y$10$abcdefghijklmnopqrstuv\n', /bcrypt/],
      ['users', 'bob:sha256:abc\n', /unknown password hash/],
      ['users', 'justaname\n', /want user:/],
      ['tokens', '# only a comment\n', /holds no token/],
    ];
    for (const [kind, text, message] of cases) {
      const file = path.join(dir, `${kind}-${randomBytes(4).toString('hex')}`);
      await writeFile(file, text);
      const config = kind === 'users' ? { basicAuthUsersFile: file } : { bearerTokenFile: file };
      const err = await AuthCredentials.open(config, { watchFiles: false, sighup: false }).then(
        (c) => {
          c.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(String(err), text).to.match(message);
    }
  });

  it('keeps the previous users when a reload finds a broken file', async () => {
    const dir = await tempDir('auth-keep');
    const file = path.join(dir, 'users');
    await writeFile(file, `carol:${sha256PasswordHash('pw')}\n`);
    const credentials = await AuthCredentials.open({ basicAuthUsersFile: file }, { watchFiles: false, sighup: false });
    try {
      await writeFile(file, 'carol:sha256:zz\n');
      expect(await credentials.reload()).to.equal(false);
      expect(await credentials.verifyBasic('carol', 'pw')).to.equal(true);
      expect(await credentials.verifyBasic('carol', 'pw2')).to.equal(false);
    } finally {
      credentials.close();
    }
  });
});

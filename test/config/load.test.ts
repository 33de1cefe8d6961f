import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { checkConfig, loadConfig, parseFlags } from '../../src/config/load.js';
import { flagOf, SETTINGS, type Setting } from '../../src/config/schema.js';
import { tempDir } from '../helpers/tmp.js';

const file = (text: string): { name: string; text: string } => ({ name: 'metricstor.yaml', text });

/** Reads a dotted camelCase path out of a config. */
function at(config: unknown, field: string): unknown {
  let node: unknown = config;
  for (const part of field.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

describe('config loading', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_CONFIG.server.httpAddr).to.equal('127.0.0.1:9101');
    expect(DEFAULT_CONFIG.server.grpcAddr).to.equal('127.0.0.1:9102');
    expect(DEFAULT_CONFIG.server.logLevel).to.equal('info');
    expect(DEFAULT_CONFIG.storage).to.include({ backend: 'embedded', dataDir: './data', retentionDays: 15, headFlushIntervalMs: 10_000 });
    expect(DEFAULT_CONFIG.query).to.include({ lookbackDeltaMs: 300_000, timeoutMs: 120_000, maxSamples: 50_000_000 });
    expect(DEFAULT_CONFIG.server.tls).to.equal(undefined);
    expect(DEFAULT_CONFIG.storage.flaredb).to.equal(undefined);
  });

  it('maps snake_case YAML keys to the camelCase fields, durations to milliseconds', () => {
    const config = loadConfig({
      file: file(`
server:
  http_addr: 0.0.0.0:9201
  log_level: debug
storage:
  retention_days: 30
  head_flush_interval: 1m30s
query:
  timeout: 45s
limits:
  max_samples_per_request: 5000
self_monitoring:
  ingest_interval: 15s
`),
    });
    expect(config.server.httpAddr).to.equal('0.0.0.0:9201');
    expect(config.server.grpcAddr).to.equal('127.0.0.1:9102');
    expect(config.server.logLevel).to.equal('debug');
    expect(config.storage.retentionDays).to.equal(30);
    expect(config.storage.headFlushIntervalMs).to.equal(90_000);
    expect(config.query.timeoutMs).to.equal(45_000);
    expect(config.limits.maxSamplesPerRequest).to.equal(5000);
    expect(config.selfMonitoring.ingestIntervalMs).to.equal(15_000);
  });

  it('fills every field of the schema from YAML', async () => {
    const dir = await tempDir('config-all');
    const readable = path.join(dir, 'some.pem');
    await writeFile(readable, 'x');
    const sample = (s: Setting): string => {
      switch (s.type) {
        case 'address':
          return '10.1.2.3:7000';
        case 'file':
          return readable;
        case 'string':
          return 'a-string';
        case 'enum':
          return s.values!.at(-1)!;
        case 'boolean':
          return 'true';
        case 'list':
          return '[one, two]';
        case 'duration':
          return '7s';
        case 'integer':
        case 'number':
          return '77';
      }
    };
    // Nested YAML from the dotted keys.
    const tree: Record<string, unknown> = {};
    for (const s of SETTINGS) {
      const parts = s.key.split('.');
      let node = tree;
      for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
      node[parts.at(-1)!] = sample(s);
    }
    const render = (node: Record<string, unknown>, indent: string): string =>
      Object.entries(node)
        .map(([k, v]) => (typeof v === 'string' ? `${indent}${k}: ${v}\n` : `${indent}${k}:\n${render(v as Record<string, unknown>, `${indent}  `)}`))
        .join('');
    const config = loadConfig({ file: file(render(tree, '')) });
    for (const s of SETTINGS) {
      const want =
        s.type === 'duration' ? 7000 : s.type === 'integer' || s.type === 'number' ? 77 : s.type === 'boolean' ? true : s.type === 'list' ? ['one', 'two'] : sample(s);
      expect(at(config, s.field), s.key).to.deep.equal(want);
    }
  });

  it('applies file, then environment, then flags', () => {
    const config = loadConfig({
      file: file('server:\n  http_addr: 127.0.0.1:1000\n  grpc_addr: 127.0.0.1:2000\nstorage:\n  retention_days: 3\n'),
      env: { METRICSTOR_GRPC_ADDR: '127.0.0.1:2001', METRICSTOR_RETENTION_DAYS: '4', METRICSTOR_DATA_DIR: '/var/lib/x' },
      flags: parseFlags(['--storage.retention-days', '5', '--query.timeout=10s']).flags,
    });
    expect(config.server.httpAddr).to.equal('127.0.0.1:1000');
    expect(config.server.grpcAddr).to.equal('127.0.0.1:2001');
    expect(config.storage.dataDir).to.equal('/var/lib/x');
    expect(config.storage.retentionDays).to.equal(5);
    expect(config.query.timeoutMs).to.equal(10_000);
  });

  it('reads environment values as text: lists split on commas, booleans, durations', async () => {
    const dir = await tempDir('config-env');
    for (const name of ['c.pem', 'k.pem', 'ca.pem']) await writeFile(path.join(dir, name), 'x');
    const config = loadConfig({
      env: {
        METRICSTOR_STORAGE_BACKEND: 'flaredb',
        METRICSTOR_FLAREDB_ENDPOINTS: '10.0.0.1:2479, 10.0.0.2:2479',
        METRICSTOR_TLS_CERT_FILE: path.join(dir, 'c.pem'),
        METRICSTOR_TLS_KEY_FILE: path.join(dir, 'k.pem'),
        METRICSTOR_TLS_CA_FILE: path.join(dir, 'ca.pem'),
        METRICSTOR_TLS_REQUIRE_CLIENT_CERT: 'true',
        METRICSTOR_HEAD_FLUSH_INTERVAL: '250ms',
      },
    });
    expect(config.storage.flaredb?.endpoints).to.deep.equal(['10.0.0.1:2479', '10.0.0.2:2479']);
    expect(config.server.tls).to.deep.equal({
      certFile: path.join(dir, 'c.pem'),
      keyFile: path.join(dir, 'k.pem'),
      caFile: path.join(dir, 'ca.pem'),
      requireClientCert: true,
    });
    expect(config.storage.headFlushIntervalMs).to.equal(250);
  });

  it('refuses bad values and names where they came from', () => {
    expect(() => loadConfig({ env: { METRICSTOR_RETENTION_DAYS: '0' } })).to.throw(/env METRICSTOR_RETENTION_DAYS: storage.retention_days/);
    expect(() => loadConfig({ env: { METRICSTOR_HTTP_ADDR: 'localhost' } })).to.throw(/want host:port/);
    expect(() => loadConfig({ flags: parseFlags(['--query.max-samples', '1.5']).flags })).to.throw(/flag --query.max-samples: .*integer/);
    expect(() => loadConfig({ env: { METRICSTOR_TLS_CERT_FILE: '/nonexistent/cert.pem' } })).to.throw(/cannot read \/nonexistent\/cert.pem/);
  });

  it('checks settings that need each other', () => {
    const problems = checkConfig({ file: file('storage:\n  backend: flaredb\n') }).map((p) => p.message);
    expect(problems).to.deep.equal(['storage.backend flaredb needs storage.flaredb.endpoints']);
  });

  it('parses flags in both forms, bare booleans, --config, and reports unknown flags', () => {
    const parsed = parseFlags(['--config', 'x.yaml', '--server.http-addr=1.2.3.4:5', '--server.tls.require-client-cert', 'extra', '--nope', '1']);
    expect(parsed.configFile).to.equal('x.yaml');
    expect(parsed.flags.map((f) => [flagOf(f.setting), f.text])).to.deep.equal([
      ['--server.http-addr', '1.2.3.4:5'],
      ['--server.tls.require-client-cert', 'true'],
    ]);
    expect(parsed.positional).to.deep.equal(['extra', '1']);
    expect(parsed.problems.map((p) => p.where)).to.deep.equal(['flag --nope']);
  });
});

describe('config check', () => {
  it('reports unknown keys, wrong types, bad addresses and unreadable files at file:line:col', () => {
    const text = [
      'server:', //                     1
      '  http_addr: "nohost"', //       2
      '  tls:', //                      3
      '    cert_file: /no/such.pem', // 4
      '    key_file: /no/such.key', //  5
      'storage:', //                    6
      '  retention: 3', //              7
      '  retention_days: many', //      8
      'query:', //                      9
      '  timeout: 5', //                10
    ].join('\n');
    const problems = checkConfig({ file: file(text) }).map((p) => `${p.where}: ${p.message}`);
    expect(problems).to.include.members([
      'metricstor.yaml:2:14: server.http_addr: want host:port, got "nohost"',
      'metricstor.yaml:7:3: unknown setting storage.retention',
      'metricstor.yaml:8:19: storage.retention_days: want a number, got "many"',
      'metricstor.yaml:10:12: query.timeout: want a duration such as 30s, 5m or 1h30m, got 5',
    ]);
    expect(problems.some((p) => p.startsWith('metricstor.yaml:4:16: server.tls.cert_file: cannot read /no/such.pem: ENOENT'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('metricstor.yaml:5:15: server.tls.key_file: cannot read'))).to.equal(true);
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    const problems = checkConfig({ file: file('server:\n  http_addr: 127.0.0.1:1\n  http_addr: 127.0.0.1:2\n') });
    expect(problems).to.have.length(1);
    expect(problems[0]!.where).to.equal('metricstor.yaml:3:3');
    expect(checkConfig({ file: file('server: [unclosed\n') })[0]!.where).to.match(/^metricstor\.yaml:\d+:\d+$/);
  });

  it('finds nothing wrong in a good file, an empty file or empty sections', () => {
    expect(checkConfig({ file: file('server:\n  http_addr: "[::1]:9101"\nquery:\n') })).to.deep.equal([]);
    expect(checkConfig({ file: file('') })).to.deep.equal([]);
  });
});

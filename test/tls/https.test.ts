/** Both listeners under server.tls: who gets through the handshake, and who may use which routes. */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { credentials as channelCredentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/generated/metricstor/grpc/health/v1/health.js';
import { MetricstorQueryClient, QueryRequest } from '../../src/generated/metricstor/metricstor/v1/query.js';
import type { Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig } from '../api/config.js';
import { makeLeaf, requireOpenssl, sharedTestPki, type KeyPair, type TestPki } from '../helpers/certs.js';
import { tempDir } from '../helpers/tmp.js';
import { httpsRequest, requestFails, tlsFilesOf } from './client.js';

describe('HTTPS with client certificates', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let outsider: KeyPair;
  let server: RunningServer;

  before(async function () {
    requireOpenssl(this);
    const dir = await tempDir('tls-https');
    pki = await sharedTestPki();
    outsider = await makeLeaf(dir, 'outsider', pki.ca, { commonName: 'someone.else.test' });
    const base = testConfig(await tempDir('tls-https-data'));
    const config: Config = {
      ...base,
      server: {
        ...base.server,
        tls: {
          certFile: pki.server.certFile,
          keyFile: pki.server.keyFile,
          caFile: pki.ca.certFile,
          requireClientCert: true,
          // The writer is named by its SAN URI; readers by a DNS wildcard or by CN.
          allowedWriters: ['spiffe://metricstor.test/*'],
          allowedReaders: ['grafana.*', 'writer.metricstor.test'],
        },
      },
    };
    server = await startServer(config);
  });

  after(async () => {
    await server?.close();
  });

  const get = (path: string, client: KeyPair | undefined) =>
    httpsRequest(server.httpAddress, path, { caFile: pki.ca.certFile, ...(client === undefined ? {} : { client }) });
  const importText = (client: KeyPair) =>
    httpsRequest(server.httpAddress, '/api/v1/import/prometheus', {
      caFile: pki.ca.certFile,
      client,
      method: 'POST',
      body: 'tls_test_metric{job="a"} 1\n',
      headers: { 'Content-Type': 'text/plain' },
    });

  // Node's server cuts a connection whose client certificate is missing or unverified without
  // an alert of its own, so what the client sees is a reset or, under TLS 1.3, an OpenSSL alert.
  const HANDSHAKE_REFUSALS = ['ECONNRESET', 'EPROTO', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'];
  const errorCode = (err: Error): string => (err as NodeJS.ErrnoException).code ?? err.message;

  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`completes no request without a valid client certificate, over ${maxVersion}`, async () => {
      const attempt = (client: KeyPair | undefined) =>
        httpsRequest(server.httpAddress, '/-/healthy', {
          caFile: pki.ca.certFile,
          maxVersion,
          ...(client === undefined ? {} : { client }),
        });
      expect(errorCode(await requestFails(attempt(undefined)))).to.be.oneOf(HANDSHAKE_REFUSALS);
      // Same CN as the writer, signed by a CA the server does not trust.
      expect(errorCode(await requestFails(attempt(pki.rogue)))).to.be.oneOf(HANDSHAKE_REFUSALS);
      expect((await attempt(pki.writer)).status).to.equal(200);
    });
  }

  it('refuses TLS 1.1 with a protocol-version alert', async () => {
    const [host, port] = server.httpAddress.split(':');
    const err = await new Promise<Error>((resolve, reject) => {
      const socket = tls.connect({
        host,
        port: Number(port),
        ...tlsFilesOf({ caFile: pki.ca.certFile, client: pki.writer }),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        // OpenSSL 3 allows TLS 1.1 only at security level 0; the client must be able to offer it.
        ciphers: 'DEFAULT:@SECLEVEL=0',
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        reject(new Error(`negotiated ${String(socket.getProtocol())}`));
      });
      socket.once('error', resolve);
    });
    // Alert 70 comes from the server: the client offered 1.1 and was turned away.
    expect((err as NodeJS.ErrnoException).code).to.equal('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const outcome = await fetch(`http://${server.httpAddress}/-/healthy`).then(
      (res) => res.status,
      () => 'failed',
    );
    expect(outcome).to.not.equal(200);
  });

  it('lets a listed writer write and read, over TLS 1.2 or newer', async () => {
    const written = await importText(pki.writer);
    expect(written.status, written.body).to.equal(204);
    const read = await get('/api/v1/query?query=tls_test_metric', pki.writer);
    expect(read.status, read.body).to.equal(200);
    expect(JSON.parse(read.body).data.result).to.have.length(1);
  });

  it('answers 403 naming the identity and route class to a reader that writes, 200 to its queries', async () => {
    const refused = await importText(pki.reader);
    expect(refused.status).to.equal(403);
    const envelope = JSON.parse(refused.body) as { errorType: string; error: string };
    expect(envelope.errorType).to.equal('forbidden');
    expect(envelope.error).to.contain('CN=reader.metricstor.test').and.contain('write');
    const remoteWrite = await httpsRequest(server.httpAddress, '/api/v1/write', {
      caFile: pki.ca.certFile,
      client: pki.reader,
      method: 'POST',
      body: '',
    });
    expect(remoteWrite.status).to.equal(403);
    const deletion = await httpsRequest(server.httpAddress, '/api/v1/admin/tsdb/delete_series?match[]=up', {
      caFile: pki.ca.certFile,
      client: pki.reader,
      method: 'POST',
    });
    expect(deletion.status).to.equal(403);
    const query = await get('/api/v1/query?query=1', pki.reader);
    expect(query.status, query.body).to.equal(200);
  });

  it('keeps an identity outside both lists to the health probes', async () => {
    const query = await get('/api/v1/labels', outsider);
    expect(query.status).to.equal(403);
    expect(JSON.parse(query.body).error).to.contain('CN=someone.else.test').and.contain('read');
    expect((await get('/-/healthy', outsider)).status).to.equal(200);
    expect((await get('/-/ready', outsider)).status).to.equal(200);
  });

  describe('on the gRPC listener of the same server', () => {
    const channel = (pair: KeyPair | undefined) =>
      channelCredentials.createSsl(
        readFileSync(pki.ca.certFile),
        pair === undefined ? null : readFileSync(pair.keyFile),
        pair === undefined ? null : readFileSync(pair.certFile),
      );
    // SNI may not carry an IP address; the server certificate also names localhost.
    const options = { 'grpc.ssl_target_name_override': 'localhost' };

    const query = async (pair: KeyPair | undefined): Promise<{ code: status; details: string }> => {
      const client = new MetricstorQueryClient(server.grpcAddress, channel(pair), options);
      try {
        return await new Promise((resolve) => {
          client.query(QueryRequest.fromPartial({ query: '1+1' }), new Metadata(), { deadline: Date.now() + 5000 }, (err: ServiceError | null) =>
            resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '' }),
          );
        });
      } finally {
        client.close();
      }
    };

    it('refuses clients without a valid certificate, serves listed readers, denies the rest', async () => {
      expect((await query(undefined)).code).to.equal(status.UNAVAILABLE);
      expect((await query(pki.rogue)).code).to.equal(status.UNAVAILABLE);
      expect((await query(pki.reader)).code).to.equal(status.OK);
      expect((await query(pki.writer)).code).to.equal(status.OK);
      const denied = await query(outsider);
      expect(denied.code).to.equal(status.PERMISSION_DENIED);
      expect(denied.details).to.contain('CN=someone.else.test');
    });

    it('answers health checks to any verified client', async () => {
      const client = new HealthClient(server.grpcAddress, channel(outsider), options);
      try {
        const answer = await new Promise<number>((resolve, reject) => {
          client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 5000 }, (err, res) =>
            err ? reject(err) : resolve(res.status),
          );
        });
        expect(answer).to.equal(HealthCheckResponse_ServingStatus.SERVING);
      } finally {
        client.close();
      }
    });
  });

  describe('when client certificates are requested but not required', () => {
    let optional: RunningServer;

    before(async () => {
      const base = testConfig(await tempDir('tls-optional-data'));
      optional = await startServer({
        ...base,
        server: {
          ...base.server,
          tls: {
            certFile: pki.server.certFile,
            keyFile: pki.server.keyFile,
            caFile: pki.ca.certFile,
            requireClientCert: false,
            allowedReaders: ['writer.metricstor.test'],
          },
        },
      });
    });

    after(async () => {
      await optional?.close();
    });

    it('lets unverified clients connect but gives them no identity', async () => {
      const ask = (path: string, client?: KeyPair) =>
        httpsRequest(optional.httpAddress, path, { caFile: pki.ca.certFile, ...(client === undefined ? {} : { client }) });
      expect((await ask('/-/healthy')).status).to.equal(200);
      const anonymous = await ask('/api/v1/labels');
      expect(anonymous.status).to.equal(403);
      expect(JSON.parse(anonymous.body).error).to.contain('without a verified certificate');
      // Same CN as a listed identity, but from another CA: the name must not count.
      expect((await ask('/api/v1/labels', pki.rogue)).status).to.equal(403);
      expect((await ask('/api/v1/labels', pki.writer)).status).to.equal(200);
    });
  });
});

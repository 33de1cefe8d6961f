/** Route classes, identity patterns and SAN parsing, without a network. */
import { expect } from 'chai';
import { openServerSecurity } from '../../src/api/auth-setup.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { AccessPolicy, compileIdentityPattern, routeClassOf } from '../../src/tls/access.js';
import { describeIdentity, identityOfCertificate, parseSubjectAltName, type PeerIdentity } from '../../src/tls/identity.js';

describe('route classes', () => {
  it('puts ingestion and admin under write, probes apart, everything else under read', () => {
    expect(routeClassOf('/api/v1/write')).to.equal('write');
    expect(routeClassOf('/api/v1/import/prometheus')).to.equal('write');
    expect(routeClassOf('/api/v1/admin/tsdb/delete_series')).to.equal('write');
    expect(routeClassOf('/api/v1/admin/tsdb/clean_tombstones')).to.equal('write');
    expect(routeClassOf('/-/healthy')).to.equal('probe');
    expect(routeClassOf('/-/ready')).to.equal('probe');
    for (const path of ['/api/v1/query', '/api/v1/read', '/api/v1/status/config', '/-/reload', '/api/v1/writes', '/nope']) {
      expect(routeClassOf(path), path).to.equal('read');
    }
  });
});

describe('identity patterns', () => {
  it('treats * as any run of characters and everything else literally', () => {
    const p = compileIdentityPattern('*.prod.example.com');
    expect(p.test('api.prod.example.com')).to.equal(true);
    expect(p.test('a.b.prod.example.com')).to.equal(true);
    expect(p.test('prod.example.com')).to.equal(false);
    expect(p.test('api.prodXexample.com')).to.equal(false);
    expect(compileIdentityPattern('spiffe://td/ns/*/sa/writer').test('spiffe://td/ns/obs/sa/writer')).to.equal(true);
    expect(compileIdentityPattern('a+b(c)').test('a+b(c)')).to.equal(true);
    expect(compileIdentityPattern('exact').test('exactly')).to.equal(false);
    expect(() => compileIdentityPattern('')).to.throw(/empty/);
  });

  const reader: PeerIdentity = { commonNames: ['grafana'], dnsNames: ['grafana.obs.svc'], uris: [] };
  const writer: PeerIdentity = { commonNames: ['agent-7'], dnsNames: [], uris: ['spiffe://td/writer'] };

  it('checks each class against its own list, matching CN, SAN DNS or URI', () => {
    const policy = new AccessPolicy({ allowedWriters: ['spiffe://td/*'], allowedReaders: ['*.obs.svc', 'agent-*'] });
    expect(policy.allows('write', writer)).to.equal(true);
    expect(policy.allows('write', reader)).to.equal(false);
    expect(policy.allows('read', reader)).to.equal(true);
    expect(policy.allows('read', writer)).to.equal(true);
    expect(policy.allows('read', undefined)).to.equal(false);
    expect(policy.allows('probe', undefined)).to.equal(true);
  });

  it('lets anyone through a class without a list, and no one through an empty list', () => {
    const policy = new AccessPolicy({ allowedWriters: [] });
    expect(policy.restricts('read')).to.equal(false);
    expect(policy.allows('read', undefined)).to.equal(true);
    expect(policy.restricts('write')).to.equal(true);
    expect(policy.allows('write', writer)).to.equal(false);
  });
});

describe('peer identity', () => {
  it('reads DNS and URI names from subjectaltname, quoted values included', () => {
    expect(parseSubjectAltName('DNS:a.example, IP Address:127.0.0.1, URI:spiffe://td/x, DNS:"odd, name"')).to.deep.equal([
      { kind: 'DNS', value: 'a.example' },
      { kind: 'IP Address', value: '127.0.0.1' },
      { kind: 'URI', value: 'spiffe://td/x' },
      { kind: 'DNS', value: 'odd, name' },
    ]);
    expect(parseSubjectAltName('')).to.deep.equal([]);
  });

  it('takes CN and SAN from a certificate object and says who it is', () => {
    const identity = identityOfCertificate({
      subject: { CN: 'agent-7' },
      subjectaltname: 'DNS:agent.local, URI:spiffe://td/writer',
    } as unknown as Parameters<typeof identityOfCertificate>[0]);
    expect(identity).to.deep.equal({ commonNames: ['agent-7'], dnsNames: ['agent.local'], uris: ['spiffe://td/writer'] });
    expect(describeIdentity(identity)).to.equal('CN=agent-7 (DNS:agent.local, URI:spiffe://td/writer)');
    expect(identityOfCertificate({} as Parameters<typeof identityOfCertificate>[0])).to.equal(undefined);
    expect(describeIdentity(undefined)).to.contain('without a verified certificate');
  });
});

describe('server security settings', () => {
  it('refuses access lists without a CA to verify client certificates against', async () => {
    const server = { ...DEFAULT_CONFIG.server, tls: { certFile: 'unused.crt', keyFile: 'unused.key', allowedReaders: ['grafana'] } };
    const err = await openServerSecurity(server, () => undefined).then(
      (security) => {
        security.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(String(err)).to.match(/need ca_file/);
  });
});

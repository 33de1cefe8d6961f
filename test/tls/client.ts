/** A small HTTPS/TLS client for the TLS tests: which certificate the server showed, and whether a socket was reused. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { KeyPair } from '../helpers/certs.js';

export interface TlsClientOptions {
  /** The CA the client trusts for the server's certificate. */
  readonly caFile: string;
  /** The client certificate to present, if any. */
  readonly client?: KeyPair;
  readonly agent?: https.Agent;
  readonly maxVersion?: tls.SecureVersion;
}

export interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly reusedSocket: boolean;
  /** SHA-256 fingerprint of the certificate the server presented on this connection. */
  readonly serverFingerprint: string;
}

export function tlsFilesOf(options: TlsClientOptions): tls.ConnectionOptions {
  return {
    ca: readFileSync(options.caFile),
    ...(options.client === undefined ? {} : { cert: readFileSync(options.client.certFile), key: readFileSync(options.client.keyFile) }),
    ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
  };
}

export function httpsRequest(
  address: string,
  path: string,
  options: TlsClientOptions & { method?: string; body?: string; headers?: Record<string, string> },
): Promise<HttpsAnswer> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: Number(port),
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...tlsFilesOf(options),
        // Without an agent of its own, each request gets a fresh connection and no session reuse.
        agent: options.agent ?? new https.Agent({ keepAlive: false, maxCachedSessions: 0 }),
        timeout: 5000,
      },
      (res) => {
        // Read now: a keep-alive agent takes the socket back once the body has ended.
        const serverFingerprint = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256 ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
            reusedSocket: req.reusedSocket,
            serverFingerprint,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The fingerprint of a certificate file, as Node reports a peer's. */
export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** Resolves with the error that ended a request, or rejects if it got an answer. */
export async function requestFails(promise: Promise<HttpsAnswer>): Promise<Error> {
  const outcome = await promise.then(
    (answer) => ({ answer }),
    (err: unknown) => ({ err }),
  );
  if ('answer' in outcome) throw new Error(`expected the connection to fail, got HTTP ${outcome.answer.status}`);
  return outcome.err instanceof Error ? outcome.err : new Error(String(outcome.err));
}

/** Polls until check passes or timeoutMs passes; returns whether it passed. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

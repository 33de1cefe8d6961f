import { readFileSync } from 'node:fs';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

/** Client TLS: a CA to verify the server, and optionally a certificate and key to present (mTLS). */
export interface ClientTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Server TLS: its certificate and key, and a CA when client certificates are checked. */
export interface ServerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
  /** Reject clients without a certificate signed by caFile. */
  readonly requireClientCert?: boolean;
}

export function clientCredentials(tls: ClientTlsFiles | undefined): ChannelCredentials {
  if (tls === undefined) return credentials.createInsecure();
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new Error('TLS: certFile and keyFile must be given together');
  }
  const ca = readFileSync(tls.caFile);
  const key = tls.keyFile === undefined ? null : readFileSync(tls.keyFile);
  const cert = tls.certFile === undefined ? null : readFileSync(tls.certFile);
  return credentials.createSsl(ca, key, cert);
}

export function serverCredentials(tls: ServerTlsFiles | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const requireClientCert = tls.requireClientCert ?? false;
  if (requireClientCert && tls.caFile === undefined) {
    throw new Error('TLS: requiring client certificates needs a CA file');
  }
  const ca = tls.caFile === undefined ? null : readFileSync(tls.caFile);
  return ServerCredentials.createSsl(
    ca,
    [{ private_key: readFileSync(tls.keyFile), cert_chain: readFileSync(tls.certFile) }],
    requireClientCert,
  );
}

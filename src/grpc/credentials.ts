import type { ServerCredentials } from '@grpc/grpc-js';
import { grpcServerCredentials } from '../tls/grpc.js';
import type { TlsReloader } from '../tls/reloader.js';

/**
 * The listener's credentials, built in this one place: plaintext without server.tls; with it,
 * TLS (mTLS with a CA) that follows certificate reloads for new connections.
 */
export function serverCredentials(tls?: TlsReloader): ServerCredentials {
  return grpcServerCredentials(tls);
}

import { ServerCredentials } from '@grpc/grpc-js';

/**
 * The listener's credentials, built in this one place: plaintext for now. TLS and mutual TLS
 * (config server.tls) replace the body of this function.
 */
export function serverCredentials(): ServerCredentials {
  return ServerCredentials.createInsecure();
}

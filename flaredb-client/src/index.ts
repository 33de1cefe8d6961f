export {
  FlareDbClient,
  type CasResult,
  type DeleteResult,
  type FlareDbCallOptions,
  type FlareDbClientOptions,
  type FlareDbClientStats,
  type KeepaliveOptions,
  type RawEntry,
  type ScanPage,
  type ScanRange,
  type VersionedEntry,
  type VersionedValue,
} from './client.js';
export { FlareDbError, isFlareDbError, isRetryableCode } from './errors.js';
export { DEFAULT_BACKOFF, backoffBoundMs, backoffDelayMs, type BackoffOptions } from './retry.js';
export type { ClientTlsFiles, ServerTlsFiles } from './tls.js';
export { startDevServer, type DevServer, type DevServerOptions, type NamespaceMode } from './dev-server.js';
export { status as GrpcStatus } from '@grpc/grpc-js';

/** The gRPC listener: MetricstorQuery and grpc.health.v1.Health on one port. */
import { Server } from '@grpc/grpc-js';
import type { ApiDeps } from '../api/deps.js';
import { parseHostPort } from '../config/config.js';
import { MetricstorError } from '../errors.js';
import { HealthService } from '../generated/metricstor/grpc/health/v1/health.js';
import { MetricstorQueryService } from '../generated/metricstor/metricstor/v1/query.js';
import { grpcAccessInterceptor, type GrpcAccessOptions } from '../tls/grpc.js';
import type { TlsReloader } from '../tls/reloader.js';
import { serverCredentials } from './credentials.js';
import { healthService } from './health.js';
import { metricstorQueryService } from './service.js';

export interface GrpcListener {
  /** host:port as bound. */
  readonly address: string;
  /** Stops accepting, lets calls in flight finish for up to graceMs, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 5000;

/** The listener's TLS and the per-call checks (credentials in metadata, identity lists). */
export interface GrpcSecurity {
  readonly tls?: TlsReloader;
  readonly access?: GrpcAccessOptions;
}

export async function startGrpcServer(deps: ApiDeps, addr: string, security: GrpcSecurity = {}): Promise<GrpcListener> {
  const { host, port } = parseHostPort(addr);
  const server = new Server(security.access === undefined ? {} : { interceptors: [grpcAccessInterceptor(security.access)] });
  const watchers = new Set<() => void>();
  server.addService(MetricstorQueryService, metricstorQueryService(deps));
  server.addService(HealthService, healthService(deps.storage, watchers));
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, serverCredentials(security.tls), (err, p) => {
      if (err) reject(new MetricstorError('unavailable', `gRPC listener on ${addr}: ${err.message}`));
      else resolve(p);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    address: host.includes(':') ? `[${host}]:${boundPort}` : `${host}:${boundPort}`,
    close: (graceMs = DEFAULT_GRACE_MS) => {
      closing ??= new Promise<void>((resolve) => {
        for (const stop of [...watchers]) stop(); // Watch streams would otherwise hold shutdown open
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}

/**
 * grpc.health.v1.Health: SERVING while the storage answers. "" (the whole server) and our service
 * name are known; Check answers NOT_FOUND for any other name, Watch SERVICE_UNKNOWN.
 */
import { status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from '../generated/metricstor/grpc/health/v1/health.js';

export const QUERY_SERVICE_NAME = 'metricstor.v1.MetricstorQuery';
const KNOWN = new Set(['', QUERY_SERVICE_NAME]);

/** How often Watch looks at readiness again; it sends only changes. */
const WATCH_POLL_MS = 1000;

export interface HealthSource {
  ready(): Promise<boolean>;
}

async function current(source: HealthSource): Promise<Serving> {
  return (await source.ready().catch(() => false)) ? Serving.SERVING : Serving.NOT_SERVING;
}

export function healthService(source: HealthSource, watchers: Set<() => void>): UntypedServiceImplementation {
  return {
    check(call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) {
      if (!KNOWN.has(call.request.service)) {
        callback({ code: status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
        return;
      }
      current(source).then((s) => callback(null, { status: s }), () => callback(null, { status: Serving.NOT_SERVING }));
    },
    watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) {
      if (!KNOWN.has(call.request.service)) {
        call.write({ status: Serving.SERVICE_UNKNOWN });
        return; // held open until the client cancels, as the protocol asks
      }
      let last: Serving | null = null;
      let stopped = false;
      const poll = (): void => {
        current(source).then((s) => {
          if (stopped || s === last) return;
          last = s;
          call.write({ status: s });
        }, () => undefined);
      };
      const timer = setInterval(poll, WATCH_POLL_MS);
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        watchers.delete(stop);
        call.end();
      };
      watchers.add(stop);
      call.once('cancelled', stop);
      poll();
    },
  };
}

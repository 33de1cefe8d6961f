/**
 * The gRPC listener's side of TLS: credentials that follow the TLS reloader (new connections get
 * new certificates, established ones keep theirs), and an interceptor that applies the same
 * credentials and identity checks as HTTP to every call before its handler runs.
 */
import { Metadata, ServerCredentials, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { AccessPolicy, type RouteClass } from './access.js';
import { describeIdentity, identityOfCertificate } from './identity.js';
import { MIN_TLS_VERSION, secureContextOptions } from './options.js';
import type { TlsReloader } from './reloader.js';

/**
 * grpc-js re-applies a credentials object's context options to its listening server whenever
 * they are updated (server.setSecureContext under the hood); this subclass updates them on reload.
 */
class ReloadingServerCredentials extends ServerCredentials {
  private readonly stop: () => void;

  constructor(reloader: TlsReloader) {
    super(
      {
        minVersion: MIN_TLS_VERSION,
        requestCert: reloader.config.caFile !== undefined,
        rejectUnauthorized: reloader.config.requireClientCert === true,
      },
      secureContextOptions(reloader.current),
    );
    this.stop = reloader.onReload((material) => this.updateSecureContextOptions(secureContextOptions(material)));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }

  /** Stops following the reloader. */
  detach(): void {
    this.stop();
  }
}

/** Plaintext without a reloader; TLS (mTLS with a CA) that follows its reloads with one. */
export function grpcServerCredentials(tls: TlsReloader | undefined): ServerCredentials {
  return tls === undefined ? ServerCredentials.createInsecure() : new ReloadingServerCredentials(tls);
}

/** What the interceptor needs of AuthCredentials. */
export interface AuthorizationVerifier {
  verifyAuthorization(header: string): Promise<boolean>;
}

export interface GrpcAccessOptions {
  readonly policy?: AccessPolicy;
  readonly credentials?: AuthorizationVerifier;
  /** The class of a method path such as /pkg.Service/Method; default grpcRouteClassOf. */
  readonly routeClassOf?: (methodPath: string) => RouteClass;
}

/** Health checks are probes; every other method of the query service only reads. */
export function grpcRouteClassOf(methodPath: string): RouteClass {
  return methodPath.startsWith('/grpc.health.v1.Health/') ? 'probe' : 'read';
}

/**
 * Checks each call once its metadata arrives: `authorization` metadata against the credentials
 * (UNAUTHENTICATED), then the verified peer certificate against the access lists (PERMISSION_DENIED).
 * Messages wait until the check has passed.
 */
export function grpcAccessInterceptor(options: GrpcAccessOptions): ServerInterceptor {
  const classify = options.routeClassOf ?? grpcRouteClassOf;
  return (method, call) => {
    const routeClass = classify(method.path);
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            denial(metadata).then(
              (refusal) => {
                if (refusal === undefined) pass(metadata);
                else intercepting.sendStatus({ ...refusal, metadata: new Metadata() });
              },
              () => intercepting.sendStatus({ code: status.INTERNAL, details: 'access check failed', metadata: new Metadata() }),
            );
          },
        });
      },
    });

    async function denial(metadata: Metadata): Promise<{ code: status; details: string } | undefined> {
      if (routeClass === 'probe') return undefined;
      if (options.credentials !== undefined) {
        const header = metadata.get('authorization')[0];
        const ok = typeof header === 'string' && (await options.credentials.verifyAuthorization(header));
        if (!ok) return { code: status.UNAUTHENTICATED, details: header === undefined ? 'authentication required' : 'invalid credentials' };
      }
      const policy = options.policy;
      if (policy !== undefined && policy.restricts(routeClass)) {
        // grpc-js reports the certificate only when it chained to the CA.
        const identity = identityOfCertificate(call.getAuthContext().sslPeerCertificate);
        if (!policy.allows(routeClass, identity)) {
          return {
            code: status.PERMISSION_DENIED,
            details: `${describeIdentity(identity)} is not allowed to use ${routeClass} endpoints (${method.path})`,
          };
        }
      }
      return undefined;
    }

    return intercepting;
  };
}

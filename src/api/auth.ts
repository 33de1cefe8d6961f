/**
 * The access guard, run after the error funnel and before any route: credentials (bearer or
 * basic) when configured, then the identity access lists by route class. Health probes pass.
 */
import type Koa from 'koa';
import { MetricstorError } from '../errors.js';
import { AccessPolicy, routeClassOf } from '../tls/access.js';
import { describeIdentity, verifiedPeerIdentity } from '../tls/identity.js';
import type { AuthCredentials } from './auth-credentials.js';

export interface AccessGuardOptions {
  /** Identity lists, checked against the verified client certificate. */
  readonly policy?: AccessPolicy;
  /** Bearer tokens and basic-auth users. */
  readonly credentials?: AuthCredentials;
}

const REALM = 'metricstor';

export function accessGuard(options: AccessGuardOptions): Koa.Middleware {
  return async function guard(ctx, next) {
    const routeClass = routeClassOf(ctx.path);
    // CORS preflights carry no credentials by design and answer nothing.
    if (routeClass === 'probe' || ctx.method === 'OPTIONS') return next();
    if (options.credentials !== undefined) await authenticate(ctx, options.credentials);
    const policy = options.policy;
    if (policy !== undefined && policy.restricts(routeClass)) {
      const identity = verifiedPeerIdentity(ctx.req.socket);
      if (!policy.allows(routeClass, identity)) {
        throw new MetricstorError('forbidden', `${describeIdentity(identity)} is not allowed to use ${routeClass} endpoints (${ctx.method} ${ctx.path})`);
      }
    }
    return next();
  };
}

async function authenticate(ctx: Koa.Context, credentials: AuthCredentials): Promise<void> {
  const header = ctx.get('Authorization');
  if (header !== '' && (await credentials.verifyAuthorization(header))) return;
  ctx.set('WWW-Authenticate', credentials.challenges(REALM));
  throw new MetricstorError('unauthorized', header === '' ? 'authentication required' : 'invalid credentials');
}

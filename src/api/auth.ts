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
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header.toLowerCase() : header.slice(0, space).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer' && credentials.acceptsBearer && value !== '' && credentials.verifyBearer(value)) return;
  if (scheme === 'basic' && credentials.acceptsBasic) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0 && (await credentials.verifyBasic(decoded.slice(0, colon), decoded.slice(colon + 1)))) return;
  }
  const challenges: string[] = [];
  if (credentials.acceptsBearer) challenges.push(`Bearer realm="${REALM}"`);
  if (credentials.acceptsBasic) challenges.push(`Basic realm="${REALM}", charset="UTF-8"`);
  ctx.set('WWW-Authenticate', challenges);
  throw new MetricstorError('unauthorized', header === '' ? 'authentication required' : 'invalid credentials');
}

/** Which client identities may use which class of route. */
import { badData } from '../errors.js';
import { identityNames, type PeerIdentity } from './identity.js';

/** write: changes data; read: everything else; probe: health and readiness, open to all. */
export type RouteClass = 'write' | 'read' | 'probe';

const PROBE_PATHS = new Set(['/-/healthy', '/-/ready']);
const WRITE_PATHS = new Set(['/api/v1/write', '/api/v1/import/prometheus']);

export function routeClassOf(path: string): RouteClass {
  if (PROBE_PATHS.has(path)) return 'probe';
  if (WRITE_PATHS.has(path) || path.startsWith('/api/v1/import/') || path.startsWith('/api/v1/admin/')) return 'write';
  return 'read';
}

/** A name pattern: `*` matches any run of characters (dots and slashes included), all else is literal. */
export function compileIdentityPattern(pattern: string): RegExp {
  if (pattern === '') throw badData('TLS: an empty identity pattern matches nothing; remove it');
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's');
}

export interface AccessLists {
  /** Absent: any verified identity may write. */
  readonly allowedWriters?: readonly string[];
  /** Absent: any verified identity may read. */
  readonly allowedReaders?: readonly string[];
}

export class AccessPolicy {
  private readonly writers: readonly RegExp[] | undefined;
  private readonly readers: readonly RegExp[] | undefined;

  constructor(lists: AccessLists) {
    this.writers = lists.allowedWriters?.map(compileIdentityPattern);
    this.readers = lists.allowedReaders?.map(compileIdentityPattern);
  }

  /** True when some list restricts the class, so a verified identity is needed. */
  restricts(routeClass: RouteClass): boolean {
    return this.listFor(routeClass) !== undefined;
  }

  allows(routeClass: RouteClass, identity: PeerIdentity | undefined): boolean {
    const list = this.listFor(routeClass);
    if (list === undefined) return true;
    if (identity === undefined) return false;
    const names = identityNames(identity);
    return list.some((pattern) => names.some((name) => pattern.test(name)));
  }

  private listFor(routeClass: RouteClass): readonly RegExp[] | undefined {
    if (routeClass === 'probe') return undefined;
    return routeClass === 'write' ? this.writers : this.readers;
  }
}

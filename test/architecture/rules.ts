import type { ImportEdge } from './imports.js';

/**
 * One dependency rule. Paths are repository paths; a path ending in '/' names a folder and
 * everything below it, any other path names one file. A rule applies to every file under
 * `importers` that is not under `exceptImporters`.
 */
export interface LayerRule {
  readonly id: string;
  /** The rule in one line, with the reason where it is not obvious. */
  readonly says: string;
  readonly importers: readonly string[];
  readonly exceptImporters?: readonly string[];
  /** When set, repository files outside these paths (and outside `typeOnly`) may not be imported. */
  readonly mayImport?: readonly string[];
  /** Paths that may be imported only through `import type`: the code compiles against them, never calls them. */
  readonly typeOnly?: readonly string[];
  readonly mustNotImport?: readonly string[];
  /** When set, npm packages outside this list may not be imported (node builtins always may). */
  readonly packages?: readonly string[];
  readonly forbiddenPackages?: readonly string[];
}

/** An edge the code has today that a rule forbids, kept on purpose; the reason says why. */
export interface RuleException {
  readonly ruleId: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

export interface Violation {
  readonly ruleId: string;
  readonly edge: ImportEdge;
  readonly why: string;
}

const LEAVES = ['src/model/', 'src/errors.ts'];
const ALL_SRC = ['src/'];

export const LAYER_RULES: readonly LayerRule[] = [
  {
    id: 'errors',
    says: 'src/errors.ts is the root of everything: it imports no other module and no package',
    importers: ['src/errors.ts'],
    mayImport: [],
    packages: [],
  },
  {
    id: 'model',
    says: 'model/ (labels, matchers, values) is a leaf: only errors.ts, no packages',
    importers: ['src/model/'],
    mayImport: LEAVES,
    packages: [],
  },
  {
    id: 'chunk',
    says: 'chunk/ (the XOR codec) is a leaf: only model/ and errors.ts, no packages, no I/O',
    importers: ['src/chunk/'],
    mayImport: ['src/chunk/', ...LEAVES],
    packages: [],
  },
  {
    id: 'kv',
    says: 'kv/ knows only bytes: model/ and errors.ts, and its backend packages',
    importers: ['src/kv/'],
    mayImport: ['src/kv/', ...LEAVES],
    packages: ['lmdb', 'classic-level', 'lru-cache', '@metricstor/flaredb-client'],
  },
  {
    id: 'flaredb-client-owner',
    says: "only src/kv/flaredb.ts imports '@metricstor/flaredb-client'",
    importers: ALL_SRC,
    exceptImporters: ['src/kv/flaredb.ts'],
    forbiddenPackages: ['@metricstor/flaredb-client'],
  },
  {
    id: 'kv-backends',
    says: 'the embedded stores (lmdb, classic-level) are opened only inside kv/',
    importers: ALL_SRC,
    exceptImporters: ['src/kv/'],
    forbiddenPackages: ['lmdb', 'classic-level'],
  },
  {
    id: 'storage',
    says: 'storage/ (index, head, chunks on KV, maintenance) builds on chunk/, kv/, model/ only',
    importers: ['src/storage/'],
    mayImport: ['src/storage/', 'src/chunk/', 'src/kv/', ...LEAVES],
    packages: ['lru-cache'],
  },
  {
    id: 'promql-parser',
    says: 'promql/parser is a leaf over model/: text in, AST out',
    importers: ['src/promql/parser/'],
    mayImport: ['src/promql/parser/', ...LEAVES],
    packages: ['lru-cache'], // the cache of parsed queries
  },
  {
    id: 'promql-types',
    says: 'promql/types.ts (the QueryEngine contract) sees only the parser and model/',
    importers: ['src/promql/types.ts'],
    mayImport: ['src/promql/parser/', ...LEAVES],
    packages: ['lru-cache'], // the cache of parsed queries
  },
  {
    id: 'promql-engine',
    says: 'promql/engine sees storage only as types from storage/types.ts: it evaluates fetched data, never calls storage',
    importers: ['src/promql/engine/'],
    mayImport: ['src/promql/engine/', 'src/promql/parser/', 'src/promql/types.ts', ...LEAVES],
    typeOnly: ['src/storage/types.ts'],
    packages: [],
  },
  {
    id: 'promql-testing-private',
    says: 'promql/testing (test runner, differential check) is tooling: no serving code imports it',
    importers: ALL_SRC,
    exceptImporters: ['src/promql/testing/'],
    mustNotImport: ['src/promql/testing/'],
  },
  {
    id: 'promql-testing',
    says: 'promql/testing drives the engine (and a whole server) from test scripts; it sees storage only as types',
    importers: ['src/promql/testing/'],
    mayImport: ['src/promql/', 'src/generated/prompb/', 'src/config/', 'src/server.ts', ...LEAVES],
    typeOnly: ['src/storage/types.ts'],
  },
  {
    id: 'ingest',
    says: 'ingest/ decodes and validates writes and reaches storage only through the types in storage/types.ts',
    importers: ['src/ingest/'],
    mayImport: ['src/ingest/', 'src/generated/prompb/', ...LEAVES],
    typeOnly: ['src/storage/types.ts'],
    mustNotImport: ['src/api/', 'src/promql/', 'src/grpc/', 'src/kv/'],
  },
  {
    id: 'remote-read',
    says: 'remote-read/ reuses the body and snappy helpers of ingest/ and sees storage only as types',
    importers: ['src/remote-read/'],
    mayImport: ['src/remote-read/', 'src/ingest/', 'src/generated/prompb/', ...LEAVES],
    typeOnly: ['src/storage/'],
  },
  {
    id: 'api',
    says: 'api/ (HTTP handlers) may use ingest, promql, storage, remote-read, tls, config, observability; never grpc/, kv/, server.ts',
    importers: ['src/api/'],
    mayImport: [
      'src/api/',
      'src/ingest/',
      'src/promql/',
      'src/storage/',
      'src/remote-read/',
      'src/tls/',
      'src/config/',
      'src/observability/',
      ...LEAVES,
    ],
  },
  {
    id: 'api-consumers',
    says: 'nothing imports api/ except grpc/ (which serves the same handlers over gRPC) and the server.ts composition root',
    importers: ALL_SRC,
    exceptImporters: ['src/api/', 'src/grpc/', 'src/server.ts'],
    mustNotImport: ['src/api/'],
  },
  {
    id: 'grpc',
    says: 'grpc/ adapts the api/ handlers to the Metricstor gRPC service; it holds no query logic of its own',
    importers: ['src/grpc/'],
    mayImport: ['src/grpc/', 'src/api/', 'src/promql/types.ts', 'src/generated/metricstor/', 'src/tls/', 'src/config/', ...LEAVES],
  },
  {
    id: 'config',
    says: 'config/ (schema, loading) is below every module that is configured',
    importers: ['src/config/'],
    mayImport: ['src/config/', ...LEAVES],
  },
  {
    id: 'tls',
    says: 'tls/ turns TLS settings into Node and gRPC credentials; it knows nothing of HTTP routes or storage',
    importers: ['src/tls/'],
    mayImport: ['src/tls/', 'src/config/', ...LEAVES],
  },
  {
    id: 'grpc-package',
    says: "@grpc/grpc-js appears only in grpc/, tls/grpc.ts and the generated stubs",
    importers: ALL_SRC,
    exceptImporters: ['src/grpc/', 'src/tls/grpc.ts', 'src/generated/'],
    forbiddenPackages: ['@grpc/grpc-js'],
  },
  {
    id: 'observability',
    says: 'observability/ (metrics, logs, self-ingest) sees ingest and kv for their observer types and feeds itself through the import path',
    importers: ['src/observability/'],
    mayImport: ['src/observability/', 'src/config/', 'src/ingest/', 'src/kv/', ...LEAVES],
    typeOnly: ['src/storage/types.ts'],
  },
  {
    id: 'agent',
    says: 'agent/ (scraping) is a client: it may parse expositions with ingest/ but never touches storage, kv, the query side or the servers',
    importers: ['src/agent/'],
    mustNotImport: ['src/kv/', 'src/storage/', 'src/promql/', 'src/api/', 'src/grpc/', 'src/remote-read/', 'src/server.ts', 'src/cli/'],
  },
  {
    id: 'generated',
    says: 'generated protobuf code imports nothing of ours',
    importers: ['src/generated/'],
    mayImport: ['src/generated/'],
  },
  {
    id: 'composition-root',
    says: 'only cli/ imports cli/ and server.ts (the composition root); no module depends on the process that runs it',
    importers: ALL_SRC,
    exceptImporters: ['src/cli/'],
    mustNotImport: ['src/cli/', 'src/server.ts'],
  },
  {
    id: 'server',
    says: 'server.ts is the composition root: it may build any module, but not the test tooling',
    importers: ['src/server.ts'],
    mustNotImport: ['src/promql/testing/'],
  },
  {
    id: 'cli',
    says: 'cli/ parses commands and hands over to server.ts or to HTTP clients; no test tooling',
    importers: ['src/cli/'],
    mustNotImport: ['src/promql/testing/'],
  },
  {
    id: 'flaredb-client',
    says: 'flaredb-client/src stands alone: nothing from the main package',
    importers: ['flaredb-client/src/'],
    mayImport: ['flaredb-client/src/'],
    forbiddenPackages: ['metricstor'],
  },
];

export const RULE_EXCEPTIONS: readonly RuleException[] = [
  {
    ruleId: 'config',
    from: 'src/config/schema.ts',
    to: 'src/ingest/',
    reason: 'the schema takes the defaults of the ingest settings (limits, write queue) from the ingest modules that own them, so each is written down once',
  },
  {
    ruleId: 'composition-root',
    from: 'src/promql/testing/differential.ts',
    to: 'src/server.ts',
    reason: 'the differential check starts a real server to compare it with Prometheus over HTTP',
  },
];

function under(repoPath: string, paths: readonly string[]): boolean {
  return paths.some((p) => (p.endsWith('/') ? repoPath.startsWith(p) : repoPath === p));
}

function excepted(rule: LayerRule, edge: ImportEdge, exceptions: readonly RuleException[]): boolean {
  if (edge.target.kind !== 'file') return false;
  const to = edge.target.path;
  return exceptions.some(
    (e) => e.ruleId === rule.id && under(edge.from, [e.from]) && under(to, [e.to]),
  );
}

/** Why an edge breaks a rule, or undefined when it does not. */
export function breaks(rule: LayerRule, edge: ImportEdge): string | undefined {
  if (!under(edge.from, rule.importers) || under(edge.from, rule.exceptImporters ?? [])) return undefined;
  const target = edge.target;
  if (target.kind === 'builtin') return undefined;
  if (target.kind === 'package') {
    if (rule.forbiddenPackages?.includes(target.name)) return `may not import package ${target.name}`;
    if (rule.packages !== undefined && !rule.packages.includes(target.name)) {
      return `package ${target.name} is not in its list (${rule.packages.join(', ') || 'none'})`;
    }
    return undefined;
  }
  const to = target.path;
  if (rule.mustNotImport !== undefined && under(to, rule.mustNotImport)) return `may not import ${to}`;
  if (rule.typeOnly !== undefined && under(to, rule.typeOnly)) {
    return edge.typeOnly ? undefined : `may import ${to} only with \`import type\``;
  }
  if (rule.mayImport !== undefined && !under(to, rule.mayImport)) return `may not import ${to}`;
  return undefined;
}

export function checkEdges(
  edges: readonly ImportEdge[],
  rules: readonly LayerRule[] = LAYER_RULES,
  exceptions: readonly RuleException[] = RULE_EXCEPTIONS,
): Violation[] {
  const violations: Violation[] = [];
  for (const edge of edges) {
    for (const rule of rules) {
      const why = breaks(rule, edge);
      if (why !== undefined && !excepted(rule, edge, exceptions)) violations.push({ ruleId: rule.id, edge, why });
    }
  }
  return violations;
}

/** Exceptions that no edge uses any more: they should be deleted so the rule is whole again. */
export function unusedExceptions(
  edges: readonly ImportEdge[],
  rules: readonly LayerRule[] = LAYER_RULES,
  exceptions: readonly RuleException[] = RULE_EXCEPTIONS,
): RuleException[] {
  return exceptions.filter((exception) => {
    const rule = rules.find((r) => r.id === exception.ruleId);
    if (rule === undefined) return true;
    return !edges.some(
      (edge) => breaks(rule, edge) !== undefined && excepted(rule, edge, [exception]),
    );
  });
}

export function formatViolation(v: Violation): string {
  const kind = v.edge.typeOnly ? 'type' : 'value';
  return `${v.edge.from}:${v.edge.line} imports '${v.edge.specifier}' (${kind}): [${v.ruleId}] ${v.why}`;
}

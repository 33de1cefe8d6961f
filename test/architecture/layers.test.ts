import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { extractImports, listTsFiles, readRepoFile, repoRoot, type ImportEdge } from './imports.js';
import { LAYER_RULES, RULE_EXCEPTIONS, checkEdges, formatViolation, unusedExceptions } from './rules.js';

const sourceFiles = [...listTsFiles('src'), ...listTsFiles('flaredb-client/src')];
const edges: ImportEdge[] = sourceFiles.flatMap((file) => extractImports(file, readRepoFile(file)));

function edgesOf(file: string, text: string): ImportEdge[] {
  return extractImports(file, text);
}

describe('architecture: import extraction', () => {
  it('sees every import form and tells type-only imports from value imports', () => {
    const text = [
      "import type { A } from './a.js';",
      "import { type B, type C } from './b.js';",
      "import { type D, e } from './d.js';",
      "import f from './f.js';",
      "import './side-effect.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "export * from './star.js';",
      "let t: import('./typed.js').T;",
      "const lazy = () => import('./lazy.js');",
      "import {",
      '  multi,',
      '  lines,',
      "} from 'lru-cache';",
      "import { readFileSync } from 'node:fs';",
      "import { wire } from '@bufbuild/protobuf/wire';",
    ].join('\n');
    const found = edgesOf('src/storage/x.ts', text).map((e) => [e.specifier, e.typeOnly]);
    expect(found).to.deep.equal([
      ['./a.js', true],
      ['./b.js', true],
      ['./d.js', false],
      ['./f.js', false],
      ['./side-effect.js', false],
      ['./g.js', false],
      ['./h.js', true],
      ['./star.js', false],
      ['./typed.js', true],
      ['./lazy.js', false],
      ['lru-cache', false],
      ['node:fs', false],
      ['@bufbuild/protobuf/wire', false],
    ]);
  });

  it('ignores import-looking text in comments and strings', () => {
    const text = [
      "// import { x } from '../api/server.js';",
      "/* export * from '../api/server.js'; */",
      "const s = \"import { y } from '../api/server.js'\";",
      "const t = `import('../api/server.js')`;",
    ].join('\n');
    expect(edgesOf('src/storage/x.ts', text)).to.deep.equal([]);
  });

  it('resolves relative specifiers to repository files and packages to their names', () => {
    const [local, pkg, scoped] = edgesOf(
      'src/promql/engine/select.ts',
      "import type { Q } from '../../storage/types.js';\nimport a from 'lru-cache/sub';\nimport b from '@scope/pkg/deep';",
    );
    expect(local!.target).to.deep.equal({ kind: 'file', path: 'src/storage/types.ts' });
    expect(pkg!.target).to.deep.equal({ kind: 'package', name: 'lru-cache' });
    expect(scoped!.target).to.deep.equal({ kind: 'package', name: '@scope/pkg' });
  });

  it('finds the imports of the real tree', () => {
    expect(sourceFiles.length).to.be.greaterThan(100);
    const storageToKv = edges.filter(
      (e) => e.from.startsWith('src/storage/') && e.target.kind === 'file' && e.target.path === 'src/kv/kv.ts',
    );
    expect(storageToKv.length).to.be.greaterThan(0);
  });
});

describe('architecture: dependency rules', () => {
  for (const rule of LAYER_RULES) {
    it(`[${rule.id}] ${rule.says}`, () => {
      const broken = checkEdges(edges, [rule]).map(formatViolation);
      expect(broken, broken.join('\n')).to.deep.equal([]);
    });
  }

  it('every rule applies to some file and names only paths that exist', () => {
    for (const rule of LAYER_RULES) {
      const named = [
        ...rule.importers,
        ...(rule.exceptImporters ?? []),
        ...(rule.mayImport ?? []),
        ...(rule.typeOnly ?? []),
        ...(rule.mustNotImport ?? []),
      ];
      for (const p of named) expect(existsSync(path.join(repoRoot, p)), `${rule.id}: ${p}`).to.equal(true);
      const applies = sourceFiles.some((f) => rule.importers.some((p) => (p.endsWith('/') ? f.startsWith(p) : f === p)));
      expect(applies, rule.id).to.equal(true);
    }
  });

  it('every source file has a row of its own (a new folder needs a rule)', () => {
    const specific = LAYER_RULES.filter((rule) => !rule.importers.includes('src/'));
    const uncovered = sourceFiles.filter(
      (f) => !specific.some((rule) => rule.importers.some((p) => (p.endsWith('/') ? f.startsWith(p) : f === p))),
    );
    expect(uncovered).to.deep.equal([]);
  });

  it('every exception is still needed and names a rule', () => {
    expect(unusedExceptions(edges).map((e) => `${e.ruleId}: ${e.from} -> ${e.to}`)).to.deep.equal([]);
    for (const exception of RULE_EXCEPTIONS) expect(exception.reason.length).to.be.greaterThan(20);
  });
});

describe('architecture: the checker catches forbidden edges', () => {
  const cases: ReadonlyArray<{ file: string; text: string; ruleId: string }> = [
    { file: 'src/storage/head.ts', text: "import { startApi } from '../api/server.js';", ruleId: 'storage' },
    { file: 'src/storage/querier.ts', text: "import { parseExpr } from '../promql/parser/index.js';", ruleId: 'storage' },
    { file: 'src/chunk/bstream.ts', text: "import { Labels } from '../model/labels.js';\nimport { x } from '../kv/kv.js';", ruleId: 'chunk' },
    { file: 'src/model/labels.ts', text: "import type { KvStore } from '../kv/kv.js';", ruleId: 'model' },
    { file: 'src/kv/memory.ts', text: "import { Storage } from '../storage/storage.js';", ruleId: 'kv' },
    { file: 'src/kv/embedded.ts', text: "import { FlareDbClient } from '@metricstor/flaredb-client';", ruleId: 'flaredb-client-owner' },
    { file: 'src/promql/engine/select.ts', text: "import { Storage } from '../../storage/storage.js';", ruleId: 'promql-engine' },
    { file: 'src/promql/engine/select.ts', text: "import { isQueryable } from '../../storage/types.js';", ruleId: 'promql-engine' },
    { file: 'src/promql/parser/index.ts', text: "import type { Queryable } from '../../storage/types.js';", ruleId: 'promql-parser' },
    { file: 'src/ingest/validate.ts', text: "import { parseExpr } from '../promql/parser/index.js';", ruleId: 'ingest' },
    { file: 'src/ingest/http.ts', text: "import { respond } from '../api/respond.js';", ruleId: 'ingest' },
    { file: 'src/ingest/http.ts', text: "import { Storage } from '../storage/storage.js';", ruleId: 'ingest' },
    { file: 'src/api/routes.ts', text: "import { startServer } from '../server.js';", ruleId: 'composition-root' },
    { file: 'src/api/routes.ts', text: "import { runScript } from '../promql/testing/runner.js';", ruleId: 'promql-testing-private' },
    { file: 'src/tls/options.ts', text: "import { main } from '../cli/main.js';", ruleId: 'composition-root' },
    { file: 'src/storage/storage.ts', text: "import { credentials } from '@grpc/grpc-js';", ruleId: 'grpc-package' },
    { file: 'flaredb-client/src/client.ts', text: "import { badData } from '../../src/errors.js';", ruleId: 'flaredb-client' },
  ];
  for (const { file, text, ruleId } of cases) {
    it(`${file}: ${text.split('\n').at(-1)} breaks [${ruleId}]`, () => {
      const rules = checkEdges(edgesOf(file, text)).map((v) => v.ruleId);
      expect(rules).to.include(ruleId);
    });
  }

  it('allows the edges the rules allow', () => {
    const allowed = [
      { file: 'src/promql/engine/select.ts', text: "import type { Queryable } from '../../storage/types.js';" },
      { file: 'src/storage/head.ts', text: "import { XorAppender } from '../chunk/index.js';\nimport type { KvStore } from '../kv/kv.js';" },
      { file: 'src/kv/flaredb.ts', text: "import { FlareDbClient } from '@metricstor/flaredb-client';" },
      { file: 'src/grpc/service.ts', text: "import { rangeQuery } from '../api/handlers/query.js';" },
    ];
    for (const { file, text } of allowed) expect(checkEdges(edgesOf(file, text)).map(formatViolation)).to.deep.equal([]);
  });

  it('honours an exception only for its own rule and edge', () => {
    const edge = edgesOf('src/config/schema.ts', "import { DEFAULT_INGEST_LIMITS } from '../ingest/limits.js';");
    expect(checkEdges(edge)).to.deep.equal([]);
    expect(checkEdges(edge, LAYER_RULES, []).map((v) => v.ruleId)).to.deep.equal(['config']);
    const otherTarget = edgesOf('src/config/schema.ts', "import { DEFAULT_RETENTION } from '../storage/storage.js';");
    expect(checkEdges(otherTarget).map((v) => v.ruleId)).to.deep.equal(['config']);
    const otherImporter = edgesOf('src/config/load.ts', "import { DEFAULT_INGEST_LIMITS } from '../ingest/limits.js';");
    expect(checkEdges(otherImporter).map((v) => v.ruleId)).to.deep.equal(['config']);
  });
});

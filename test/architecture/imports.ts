import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One import edge of one source file, as written in the file. */
export interface ImportEdge {
  /** Importing file, relative to the repository root with forward slashes (src/storage/head.ts). */
  readonly from: string;
  /** What the specifier names: a repository path (src/kv/kv.ts) or a package ('lru-cache'). */
  readonly target: ImportTarget;
  /** True for `import type`, `export type ... from`, all-`type` named imports and `import('x').T` types. */
  readonly typeOnly: boolean;
  readonly specifier: string;
  readonly line: number;
}

export type ImportTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'package'; readonly name: string }
  | { readonly kind: 'builtin'; readonly name: string };

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every .ts file (declaration files included) under a repository folder, sorted, as repository paths. */
export function listTsFiles(folder: string): string[] {
  const found: string[] = [];
  const visit = (relDir: string): void => {
    for (const entry of readdirSync(path.join(repoRoot, relDir), { withFileTypes: true })) {
      const rel = `${relDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') visit(rel);
      } else if (entry.name.endsWith('.ts')) {
        found.push(rel);
      }
    }
  };
  visit(folder);
  return found.sort();
}

export function readRepoFile(repoPath: string): string {
  return readFileSync(path.join(repoRoot, repoPath), 'utf8');
}

export function parseSource(repoPath: string, text: string): ts.SourceFile {
  return ts.createSourceFile(repoPath, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** Import edges of one file, found on its syntax tree (so strings and comments never count). */
export function extractImports(repoPath: string, text: string): ImportEdge[] {
  const source = parseSource(repoPath, text);
  const edges: ImportEdge[] = [];
  const add = (specifierNode: ts.Node, specifier: string, typeOnly: boolean): void => {
    const line = source.getLineAndCharacterOfPosition(specifierNode.getStart(source)).line + 1;
    edges.push({ from: repoPath, target: resolveTarget(repoPath, specifier), typeOnly, specifier, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier, node.moduleSpecifier.text, importIsTypeOnly(node.importClause));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier, node.moduleSpecifier.text, exportIsTypeOnly(node));
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node.moduleReference.expression, node.moduleReference.expression.text, node.isTypeOnly);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node.argument.literal, node.argument.literal.text, true);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0]!)
    ) {
      const arg = node.arguments[0] as ts.StringLiteralLike;
      add(arg, arg.text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function importIsTypeOnly(clause: ts.ImportClause | undefined): boolean {
  if (clause === undefined) return false; // import './side-effect.js'
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return (
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

function exportIsTypeOnly(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return (
    clause !== undefined &&
    ts.isNamedExports(clause) &&
    clause.elements.length > 0 &&
    clause.elements.every((element) => element.isTypeOnly)
  );
}

/** Resolves a specifier the way NodeNext does for our sources: `./x.js` names `./x.ts` when that exists. */
export function resolveTarget(fromRepoPath: string, specifier: string): ImportTarget {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const joined = path.posix.normalize(path.posix.join(path.posix.dirname(fromRepoPath), specifier));
    const asTs = joined.replace(/\.js$/, '.ts');
    return { kind: 'file', path: existsSync(path.join(repoRoot, asTs)) ? asTs : joined };
  }
  if (specifier.startsWith('node:') || isBuiltin(specifier)) return { kind: 'builtin', name: specifier };
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return { kind: 'package', name };
}

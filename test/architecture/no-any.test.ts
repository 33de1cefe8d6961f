import { expect } from 'chai';
import ts from 'typescript';
import { listTsFiles, parseSource, readRepoFile } from './imports.js';

/** Generated code is exempt: it is rewritten by its generator, not by us. */
const GENERATED = ['src/generated/', 'src/promql/parser/generated/'];

/** Every place the `any` type is written, as file:line. The syntax tree ignores strings and comments. */
function anyTypes(file: string, text: string): string[] {
  const source = parseSource(file, text);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      found.push(`${file}:${line}: ${node.parent.getText(source).slice(0, 80)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('architecture: no `any` type in our sources', () => {
  it('finds `any` in every form and nowhere else', () => {
    const text = [
      'let a: any;', // 1
      'const b = 1 as any;', // 2
      'const c = <any>b;', // 3
      'let d: any[] = [];', // 4
      'let e: Record<string, any> = {};', // 5
      'function f(x: unknown): void {}', // 6: not any
      "const s = 'x: any, as any, <any>, any[]';", // 7: string
      '// y: any', // 8: comment
      '/* z as any */', // 9: comment
      'const company = { many: 1, anyway: 2 };', // 10: identifiers
      'const t = `${1 as number} as any`;', // 11: template text
    ].join('\n');
    const lines = anyTypes('src/x.ts', text).map((hit) => Number(hit.split(':')[1]));
    expect(lines).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('src/ has none outside generated code', () => {
    const files = listTsFiles('src').filter((f) => !GENERATED.some((g) => f.startsWith(g)));
    expect(files.length).to.be.greaterThan(100);
    const hits = files.flatMap((f) => anyTypes(f, readRepoFile(f)));
    expect(hits, hits.join('\n')).to.deep.equal([]);
  });
});

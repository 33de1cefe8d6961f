// Bundles the web UI (web/) into dist/web: index.html plus content-hashed assets under assets/.
// Run by `npm run build`; tests import buildWeb to build before driving the page.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_WEB_OUT_DIR = path.join(ROOT, 'dist', 'web');

/** Builds the UI into outDir (replacing what was there) and answers the asset file names. */
export async function buildWeb(outDir = DEFAULT_WEB_OUT_DIR) {
  const assetsDir = path.join(outDir, 'assets');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(ROOT, 'web', 'src', 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    entryNames: '[name]-[hash]',
    outdir: assetsDir,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (js === undefined || css === undefined) throw new Error(`web build produced no script or style: ${outputs.join(', ')}`);
  const template = await readFile(path.join(ROOT, 'web', 'index.html'), 'utf8');
  const html = template.replace('__APP_JS__', `assets/${js}`).replace('__APP_CSS__', `assets/${css}`);
  await writeFile(path.join(outDir, 'index.html'), html);
  return { outDir, js, css };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { outDir, js, css } = await buildWeb(process.argv[2] ?? DEFAULT_WEB_OUT_DIR);
  process.stdout.write(`web UI built in ${path.relative(process.cwd(), outDir) || '.'}: ${js}, ${css}\n`);
}

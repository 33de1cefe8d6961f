/**
 * The web UI's files from the build output (dist/web): `/` answers index.html, `/assets/<name>` a
 * file the build wrote. Only names found in the assets directory are served, so no request path
 * can reach outside it. Asset names carry a content hash and are cached for a year; index.html
 * is revalidated on every load so a new build is picked up at once.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** dist/web beside the compiled server (dist/src/api → dist/web), or the repository's dist/web from src/api. */
export function defaultWebRoot(): string {
  const moduleDir = path.dirname(fileURLToPath(import.meta.url));
  const base = path.resolve(moduleDir, '..', '..');
  return path.basename(base) === 'dist' ? path.join(base, 'web') : path.join(base, 'dist', 'web');
}

async function loadFile(file: string): Promise<StaticFile> {
  const body = await readFile(file);
  const contentType = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  return { body, contentType, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

function send(ctx: Koa.Context, file: StaticFile, cacheControl: string): void {
  ctx.set('Cache-Control', cacheControl);
  ctx.set('ETag', file.etag);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = file.contentType;
  if (ctx.get('If-None-Match') === file.etag) {
    ctx.status = 304;
    return;
  }
  ctx.status = 200;
  ctx.body = file.body; // Koa sends only the headers (with the length) for HEAD.
}

function notBuilt(ctx: Koa.Context): void {
  ctx.status = 404;
  ctx.type = 'text/plain';
  ctx.body = 'The web UI is not built; run `npm run build`.\n';
}

export interface WebUi {
  readonly index: Koa.Middleware;
  readonly asset: Koa.Middleware;
}

/**
 * Middleware for `/` and `/assets/:file`. index.html is read on each request (it is small and
 * names the current assets); assets are read once and kept, and the directory is listed again
 * (at most once a second) when an unknown name is asked for, as after a rebuild.
 */
export function webUi(root: string = defaultWebRoot()): WebUi {
  let assets: Promise<Map<string, StaticFile>> | undefined;
  let listedAtMs = 0;
  const loadAssets = (): Promise<Map<string, StaticFile>> =>
    (assets ??= (async () => {
      listedAtMs = Date.now();
      const dir = path.join(root, 'assets');
      const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const files = new Map<string, StaticFile>();
      for (const entry of names) {
        if (entry.isFile()) files.set(entry.name, await loadFile(path.join(dir, entry.name)));
      }
      if (files.size === 0) assets = undefined;
      return files;
    })());
  return {
    index: async (ctx) => {
      const file = await loadFile(path.join(root, 'index.html')).catch(() => undefined);
      if (file === undefined) return notBuilt(ctx);
      send(ctx, file, 'no-cache');
    },
    asset: async (ctx) => {
      const name = path.basename(ctx.path);
      let file = (await loadAssets()).get(name);
      if (file === undefined && Date.now() - listedAtMs >= 1000) {
        assets = undefined;
        file = (await loadAssets()).get(name);
      }
      if (file === undefined) {
        ctx.status = 404;
        ctx.type = 'text/plain';
        ctx.body = 'Not found\n';
        return;
      }
      send(ctx, file, 'public, max-age=31536000, immutable');
    },
  };
}

/** The web UI's static files: content types, caching, conditional requests, no way out of the build directory. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import Koa from 'koa';
import { listen, type HttpServer } from '../../src/api/server.js';
import { webUi } from '../../src/api/static.js';
import { tempDir } from '../helpers/tmp.js';

describe('web UI static files', () => {
  let root: string;
  let server: HttpServer;
  let base: string;

  before(async () => {
    const dir = await tempDir('web-static');
    root = path.join(dir, 'web');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    await writeFile(path.join(dir, 'secret.txt'), 'outside the web root');
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(path.join(root, 'assets', 'app-ABC.js'), 'console.log(1)');
    await writeFile(path.join(root, 'assets', 'app-ABC.css'), 'body{}');
    const ui = webUi(root);
    const app = new Koa();
    app.use(async (ctx) => {
      if (ctx.path === '/') await ui.index(ctx, async () => undefined);
      else if (ctx.path.startsWith('/assets/')) await ui.asset(ctx, async () => undefined);
      else ctx.status = 418;
    });
    server = await listen(app, '127.0.0.1:0');
    base = `http://${server.address}`;
  });

  after(async () => {
    await server?.close();
    if (root) await rm(path.dirname(root), { recursive: true, force: true });
  });

  it('answers index.html at / for revalidation on every load', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    expect(await res.text()).to.equal('<!doctype html><title>t</title>');
  });

  it('serves hashed assets with their content type, a year of caching and ETags', async () => {
    const js = await fetch(`${base}/assets/app-ABC.js`);
    expect(js.status).to.equal(200);
    expect(js.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(await js.text()).to.equal('console.log(1)');
    const css = await fetch(`${base}/assets/app-ABC.css`);
    expect(css.headers.get('content-type')).to.equal('text/css; charset=utf-8');
    const etag = js.headers.get('etag');
    expect(etag).to.match(/^"[A-Za-z0-9_-]+"$/);
    const again = await fetch(`${base}/assets/app-ABC.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).to.equal(304);
    expect(await again.text()).to.equal('');
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await fetch(`${base}/assets/app-ABC.js`, { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-length')).to.equal(String('console.log(1)'.length));
  });

  it('serves only files the build wrote, whatever the path says', async () => {
    for (const probe of [
      '/assets/../secret.txt',
      '/assets/..%2Fsecret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets/..\\secret.txt',
      '/assets/',
      '/assets/missing.js',
    ]) {
      const res = await fetch(`${base}${probe}`);
      const body = await res.text();
      expect(body, probe).not.to.contain('outside the web root');
      if (res.status !== 418) expect(res.status, probe).to.equal(404);
    }
  });

  it('finds assets written after the first listing (a rebuild)', async () => {
    expect((await fetch(`${base}/assets/app-NEW.js`)).status).to.equal(404);
    await writeFile(path.join(root, 'assets', 'app-NEW.js'), 'new');
    // The directory is listed again at most once a second.
    const deadline = Date.now() + 3000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(`${base}/assets/app-NEW.js`)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).to.equal(200);
  });

  it('says plainly when the UI is not built', async () => {
    const ui = webUi(path.join(root, 'nowhere'));
    const app = new Koa();
    app.use((ctx) => ui.index(ctx, async () => undefined));
    const bare = await listen(app, '127.0.0.1:0');
    try {
      const res = await fetch(`http://${bare.address}/`);
      expect(res.status).to.equal(404);
      expect(await res.text()).to.contain('npm run build');
    } finally {
      await bare.close();
    }
  });
});

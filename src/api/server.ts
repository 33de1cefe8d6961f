import http from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { parseHostPort } from '../config/config.js';

export interface HttpServer {
  /** The bound address, e.g. 127.0.0.1:9101 (port resolved when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

export function buildApp(): Koa {
  const app = new Koa();
  const router = new Router();
  router.get('/-/healthy', (ctx) => {
    ctx.body = 'Metricstor is Healthy.\n';
  });
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}

export async function listen(app: Koa, addr: string): Promise<HttpServer> {
  const { host, port } = parseHostPort(addr);
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

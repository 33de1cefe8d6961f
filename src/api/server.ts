import http from 'node:http';
import https from 'node:https';
import Koa from 'koa';
import { parseHostPort } from '../config/config.js';
import { badData, MetricstorError } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { RequestParams } from './params.js';
import { writeError, writeSuccess } from './respond.js';
import type { HttpMethod } from './routes.js';
import { API_ROUTES, rawRoutes } from './routes.js';
import { secureContextOptions, serverTlsOptions } from '../tls/options.js';
import type { TlsReloader } from '../tls/reloader.js';

export interface HttpServer {
  /** The bound address, e.g. 127.0.0.1:9101 (port resolved when 0 was asked for). */
  readonly address: string;
  /** Stops accepting, lets in-flight requests finish (up to a grace period), then resolves. */
  close(): Promise<void>;
}

interface CompiledRoute {
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
  readonly methods: readonly HttpMethod[];
  readonly run: (ctx: Koa.Context, pathParams: Record<string, string>) => Promise<void>;
}

/** '/api/v1/label/:name/values' → an anchored pattern with one capture per `:param`. */
function compilePath(path: string): { pattern: RegExp; paramNames: string[] } {
  const paramNames: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), paramNames };
}

export interface AppOptions {
  /** Authentication and access checks, run after the error funnel and before any route. */
  readonly guard?: Koa.Middleware;
  /** Runs first, around everything else (self-monitoring: request counts and durations). */
  readonly outermost?: Koa.Middleware;
  /** Runs after the guard, before the routes: extra endpoints such as /metrics (it calls next otherwise). */
  readonly beforeRoutes?: Koa.Middleware;
}

/** Routes that evaluate PromQL, and so pass through the query gate. */
const GATED_PATHS: ReadonlySet<string> = new Set(['/api/v1/query', '/api/v1/query_range']);

/** The Koa app: the error funnel first, then the access guard, then one dispatcher over the routes table. */
export function buildApp(deps: ApiDeps, options: AppOptions = {}): Koa {
  const app = new Koa();
  const routes: CompiledRoute[] = [
    ...API_ROUTES.map((route) => ({
      ...compilePath(route.path),
      methods: route.methods,
      run: async (ctx: Koa.Context, pathParams: Record<string, string>) => {
        const params = new RequestParams([
          ...(await readFormBody(ctx, deps.maxFormBodyBytes)),
          new URLSearchParams(ctx.querystring),
        ]);
        const signal = clientGone(ctx);
        const handle = () => route.handler({ params, pathParams, signal }, deps);
        const gate = GATED_PATHS.has(route.path) ? deps.queryGate : undefined;
        const result = gate === undefined ? await handle() : await gate.run(handle, signal);
        writeSuccess(ctx, result);
      },
    })),
    ...rawRoutes(deps).map((route) => ({
      ...compilePath(route.path),
      methods: route.methods,
      run: async (ctx: Koa.Context) => {
        await route.middleware(ctx, async () => undefined);
      },
    })),
  ];

  if (options.outermost !== undefined) app.use(options.outermost);

  app.use(async function errorFunnel(ctx, next) {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof MetricstorError) || err.type === 'internal') ctx.app.emit('error', err, ctx);
      writeError(ctx, err);
    }
  });

  if (options.guard !== undefined) app.use(options.guard);
  if (options.beforeRoutes !== undefined) app.use(options.beforeRoutes);

  app.use(async function dispatch(ctx) {
    if (ctx.method === 'OPTIONS' && ctx.path.startsWith('/api/v1/')) {
      // CORS preflight, answered for every API path as Prometheus does.
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', 'Accept, Authorization, Content-Type, Origin');
      ctx.set('Access-Control-Expose-Headers', 'Date');
      ctx.status = 204;
      return;
    }
    let allowed: HttpMethod[] = [];
    for (const route of routes) {
      const m = route.pattern.exec(ctx.path);
      if (!m) continue;
      if (!route.methods.includes(ctx.method as HttpMethod)) {
        allowed = [...allowed, ...route.methods];
        continue;
      }
      const pathParams: Record<string, string> = {};
      route.paramNames.forEach((name, i) => {
        pathParams[name] = decodePathSegment(m[i + 1]!);
      });
      await route.run(ctx, pathParams);
      return;
    }
    if (allowed.length > 0) {
      // Clients such as Grafana and promtool retry with GET on a 405.
      ctx.set('Allow', [...new Set(allowed)].join(', '));
      ctx.status = 405;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({
        status: 'error',
        errorType: 'bad_data',
        error: `method ${ctx.method} not allowed for ${ctx.path}`,
      });
      return;
    }
    throw new MetricstorError('not_found', `no such endpoint: ${ctx.method} ${ctx.path}`);
  });

  const logError =
    deps.logError ??
    ((message: string) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'request failed', error: message })}\n`));
  app.on('error', (err: unknown) => logError(err instanceof Error ? (err.stack ?? err.message) : String(err)));
  return app;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badData(`invalid escape in path segment ${JSON.stringify(segment)}`);
  }
}

/** An AbortSignal that fires when the connection closes before the answer was sent. */
function clientGone(ctx: Koa.Context): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort(new MetricstorError('canceled', 'client closed the connection'));
  });
  return controller.signal;
}

/**
 * Parameters from an application/x-www-form-urlencoded POST or PUT body (as Go's ParseForm
 * reads them), refused above maxBytes. Other bodies carry no parameters.
 */
async function readFormBody(ctx: Koa.Context, maxBytes: number): Promise<URLSearchParams[]> {
  if (ctx.method !== 'POST' && ctx.method !== 'PUT') return [];
  if (!ctx.is('application/x-www-form-urlencoded')) return [];
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > maxBytes) {
    ctx.set('Connection', 'close');
    throw new MetricstorError('too_large', `request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of ctx.req) {
    const buf = chunk as Buffer;
    sizeBytes += buf.length;
    if (sizeBytes > maxBytes) {
      ctx.set('Connection', 'close');
      throw new MetricstorError('too_large', `request body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return [new URLSearchParams(Buffer.concat(chunks).toString('utf8'))];
}

/**
 * Slow clients (slowloris) hold a socket each; these bound how long. A request's headers must
 * arrive within HEADERS_TIMEOUT_MS and the whole request (body included) within REQUEST_TIMEOUT_MS,
 * else the connection gets 408 and is closed. Node checks both every CONNECTION_CHECK_MS
 * (30 s by default, which would let a dribbling client stay three times longer).
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;
const CONNECTION_CHECK_MS = 1_000;
const SLOW_CLIENT_LIMITS: http.ServerOptions = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: CONNECTION_CHECK_MS,
};

/** How long close() waits for in-flight requests before cutting their connections. */
const CLOSE_GRACE_MS = 10_000;
const IDLE_SWEEP_MS = 50;

/**
 * Serves the app over HTTP, or HTTPS when a TLS reloader is given: each reload swaps the
 * certificates for new connections while established ones keep theirs.
 */
export async function listen(app: Koa, addr: string, tls?: TlsReloader): Promise<HttpServer> {
  const { host, port } = parseHostPort(addr);
  let server: http.Server | https.Server;
  let stopReloads = (): void => undefined;
  if (tls === undefined) {
    server = http.createServer(SLOW_CLIENT_LIMITS, app.callback());
  } else {
    const secure = https.createServer({ ...SLOW_CLIENT_LIMITS, ...serverTlsOptions(tls.config, tls.current) }, app.callback());
    stopReloads = tls.onReload((material) => secure.setSecureContext(secureContextOptions(material)));
    server = secure;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    stopReloads();
    throw err;
  }
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopReloads();
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        // Keep-alive connections turn idle as their last response ends; close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        server.close((err) => {
          clearTimeout(force);
          clearInterval(sweep);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

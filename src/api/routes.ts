/** Every HTTP route of the server in one table: path → methods → handler. */
import type Koa from 'koa';
import type { ApiDeps } from './deps.js';
import type { ApiHandler } from './handler.js';
import { cleanTombstones, compact, deleteSeries } from './handlers/admin.js';
import { formatQuery, instantQuery, queryExemplars, rangeQuery } from './handlers/query.js';
import { labelNames, labelValues, metadata, series } from './handlers/series.js';
import {
  alertmanagers,
  alerts,
  buildInfo,
  configYaml,
  flags,
  rules,
  runtimeInfo,
  scrapePools,
  targets,
  targetsMetadata,
  tsdbStatus,
  walReplay,
} from './handlers/status.js';
import { webUi } from './static.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** An endpoint answering with the Prometheus JSON envelope. */
export interface ApiRoute {
  readonly path: string;
  readonly methods: readonly HttpMethod[];
  readonly handler: ApiHandler;
}

/** An endpoint with a body of its own (health probes, ingestion). */
export interface RawRoute {
  readonly path: string;
  readonly methods: readonly HttpMethod[];
  readonly middleware: Koa.Middleware;
}

const GET: readonly HttpMethod[] = ['GET'];
const GET_POST: readonly HttpMethod[] = ['GET', 'POST'];
const POST_PUT: readonly HttpMethod[] = ['POST', 'PUT'];

export const API_ROUTES: readonly ApiRoute[] = [
  { path: '/api/v1/query', methods: GET_POST, handler: instantQuery },
  { path: '/api/v1/query_range', methods: GET_POST, handler: rangeQuery },
  { path: '/api/v1/query_exemplars', methods: GET_POST, handler: queryExemplars },
  { path: '/api/v1/format_query', methods: GET_POST, handler: formatQuery },
  { path: '/api/v1/series', methods: GET_POST, handler: series },
  { path: '/api/v1/labels', methods: GET_POST, handler: labelNames },
  { path: '/api/v1/label/:name/values', methods: GET, handler: labelValues },
  { path: '/api/v1/metadata', methods: GET, handler: metadata },
  { path: '/api/v1/status/buildinfo', methods: GET, handler: buildInfo },
  { path: '/api/v1/status/config', methods: GET, handler: configYaml },
  { path: '/api/v1/status/flags', methods: GET, handler: flags },
  { path: '/api/v1/status/runtimeinfo', methods: GET, handler: runtimeInfo },
  { path: '/api/v1/status/tsdb', methods: GET, handler: tsdbStatus },
  { path: '/api/v1/status/walreplay', methods: GET, handler: walReplay },
  { path: '/api/v1/targets', methods: GET, handler: targets },
  { path: '/api/v1/targets/metadata', methods: GET, handler: targetsMetadata },
  { path: '/api/v1/scrape_pools', methods: GET, handler: scrapePools },
  { path: '/api/v1/alertmanagers', methods: GET, handler: alertmanagers },
  { path: '/api/v1/rules', methods: GET, handler: rules },
  { path: '/api/v1/alerts', methods: GET, handler: alerts },
  { path: '/api/v1/admin/tsdb/delete_series', methods: POST_PUT, handler: deleteSeries },
  { path: '/api/v1/admin/tsdb/clean_tombstones', methods: POST_PUT, handler: cleanTombstones },
  { path: '/api/v1/admin/tsdb/compact', methods: POST_PUT, handler: compact },
];

export function rawRoutes(deps: ApiDeps): RawRoute[] {
  const routes: RawRoute[] = [
    {
      path: '/-/healthy',
      methods: ['GET', 'HEAD'],
      middleware: (ctx) => {
        ctx.type = 'text/plain';
        ctx.body = 'Metricstor is Healthy.\n';
      },
    },
    {
      path: '/-/ready',
      methods: ['GET', 'HEAD'],
      middleware: async (ctx) => {
        const ready = await deps.storage.ready().catch(() => false);
        ctx.type = 'text/plain';
        ctx.status = ready ? 200 : 503;
        ctx.body = ready ? 'Metricstor is Ready.\n' : 'Service Unavailable\n';
      },
    },
  ];
  const ui = webUi();
  routes.push(
    { path: '/', methods: ['GET', 'HEAD'], middleware: ui.index },
    { path: '/assets/:file', methods: ['GET', 'HEAD'], middleware: ui.asset },
  );
  if (deps.ingest) {
    routes.push(
      { path: '/api/v1/write', methods: ['POST'], middleware: deps.ingest.remoteWrite },
      { path: '/api/v1/import/prometheus', methods: ['POST'], middleware: deps.ingest.importPrometheus },
    );
  }
  if (deps.remoteRead) routes.push({ path: '/api/v1/read', methods: ['POST'], middleware: deps.remoteRead });
  return routes;
}

import type Koa from 'koa';
import type { Matcher } from '../model/matchers.js';
import type { QueryGate } from './query-gate.js';
import type { Expr } from '../promql/parser/ast.js';
import type { QueryEngine } from '../promql/types.js';
import type { MetricStorage } from '../storage/types.js';

/** The parts of the PromQL parser the API uses; errors are MetricstorError of type bad_data. */
export interface PromqlText {
  parseExpr(text: string): Expr;
  /** A series selector such as `up{job="x"}` (match[] parameters). */
  parseSeriesSelector(text: string): Matcher[];
  /** The expression printed back the way format_query answers. */
  formatExpr(expr: Expr): string;
  /** A Prometheus duration string (1h30m) in milliseconds. */
  parseDurationMs(text: string): number;
}

/** Facts about the running server for the status endpoints. */
export interface ServerInfo {
  readonly version: string;
  readonly revision: string;
  readonly startTimeMs: number;
  /** The effective configuration rendered as YAML. */
  readonly configYaml: string;
  /** Settings in the shape of Prometheus's command-line flags. */
  readonly flags: Readonly<Record<string, string>>;
  /** e.g. "15d". */
  readonly storageRetention: string;
}

/** Everything the HTTP API needs, built by the composition root (src/server.ts). */
export interface ApiDeps {
  readonly storage: MetricStorage;
  readonly engine: QueryEngine;
  readonly promql: PromqlText;
  readonly info: ServerInfo;
  /** The engine's own timeout; a `timeout` parameter can only shorten it. */
  readonly queryTimeoutMs: number;
  /** Caps concurrent PromQL evaluations (query, query_range); unbounded when absent. */
  readonly queryGate?: QueryGate;
  /** Largest accepted form-encoded request body. */
  readonly maxFormBodyBytes: number;
  /** Remote write and text-format import, when the ingest module is wired in. */
  readonly ingest?: {
    readonly remoteWrite: Koa.Middleware;
    readonly importPrometheus: Koa.Middleware;
  };
  /** Prometheus remote read (POST /api/v1/read), when the storage can serve it. */
  readonly remoteRead?: Koa.Middleware;
  /**
   * POST /api/v1/admin/tsdb/compact: closes the head's open chunks, compacts every window and gives
   * freed space back to the file system; resolves to a summary. Absent when the server lacks it.
   */
  readonly compactNow?: () => Promise<unknown>;
  /** Where failures that are bugs (internal errors) are reported; stderr by default. */
  readonly logError?: (message: string) => void;
  /** The clock (milliseconds); tests pin it. */
  readonly nowMs: () => number;
}

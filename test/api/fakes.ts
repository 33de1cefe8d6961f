/** Small stand-ins for storage, engine and parser, for API tests that need exact control. */
import { badData } from '../../src/errors.js';
import type { Labels } from '../../src/model/labels.js';
import { compareLabels } from '../../src/model/labels.js';
import type { Matcher } from '../../src/model/matchers.js';
import { compileMatcher, matchesAll } from '../../src/model/matchers.js';
import type { PromqlText } from '../../src/api/deps.js';
import type { Expr } from '../../src/promql/parser/ast.js';
import type { QueryEngine, QueryOptions, QueryOutcome } from '../../src/promql/types.js';
import type {
  AppendBatch,
  LabelQuery,
  MetricMetadata,
  MetricStorage,
  SelectParams,
  SeriesData,
  TsdbStats,
} from '../../src/storage/types.js';

/** Records every call; answers from the outcomes it was given. */
export class ScriptedEngine implements QueryEngine {
  readonly calls: { kind: 'instant' | 'range'; query: string; args: number[]; options?: QueryOptions }[] = [];
  constructor(private readonly answer: (query: string, options?: QueryOptions) => QueryOutcome | Promise<QueryOutcome>) {}

  async instantQuery(query: string, timeMs: number, options?: QueryOptions): Promise<QueryOutcome> {
    this.calls.push({ kind: 'instant', query, args: [timeMs], options });
    return this.answer(query, options);
  }

  async rangeQuery(query: string, startMs: number, endMs: number, stepMs: number, options?: QueryOptions): Promise<QueryOutcome> {
    this.calls.push({ kind: 'range', query, args: [startMs, endMs, stepMs], options });
    return this.answer(query, options);
  }
}

/** A storage whose every call is recorded and whose readiness can be switched. */
export class RecordingStorage implements MetricStorage {
  readonly deleted: LabelQuery[] = [];
  readonly labelQueries: LabelQuery[] = [];
  isReady = true;
  constructor(
    private readonly series_: Labels[] = [],
    private readonly meta = new Map<string, MetricMetadata[]>(),
  ) {}

  async select(_params: SelectParams): Promise<SeriesData[]> {
    return [];
  }
  async append(_batch: AppendBatch): Promise<void> {}
  async putMetadata(_entries: readonly MetricMetadata[]): Promise<void> {}
  async metadata(metric?: string, limit?: number): Promise<Map<string, MetricMetadata[]>> {
    const out = new Map<string, MetricMetadata[]>();
    for (const [name, entries] of this.meta) {
      if (metric !== undefined && name !== metric) continue;
      if (limit !== undefined && out.size >= limit) break;
      out.set(name, entries);
    }
    return out;
  }
  private matching(q: LabelQuery): Labels[] {
    this.labelQueries.push(q);
    const sets = q.matcherSets.map((set) => set.map(compileMatcher));
    return this.series_.filter((l) => sets.length === 0 || sets.some((set) => matchesAll(set, l))).sort(compareLabels);
  }
  async labelNames(q: LabelQuery): Promise<string[]> {
    const names = new Set(this.matching(q).flatMap((l) => l.map((x) => x.name)));
    return [...names].sort().slice(0, q.limit || undefined);
  }
  async labelValues(name: string, q: LabelQuery): Promise<string[]> {
    const values = new Set(this.matching(q).flatMap((l) => l.filter((x) => x.name === name).map((x) => x.value)));
    return [...values].sort().slice(0, q.limit || undefined);
  }
  async series(q: LabelQuery): Promise<Labels[]> {
    return this.matching(q).slice(0, q.limit || undefined);
  }
  async deleteSeries(q: LabelQuery): Promise<void> {
    this.deleted.push(q);
  }
  async stats(limit: number): Promise<TsdbStats> {
    return {
      numSeries: this.series_.length,
      seriesCountByMetricName: [{ name: 'up', value: this.series_.length }].slice(0, limit),
      labelValueCountByLabelName: [{ name: 'job', value: 2 }].slice(0, limit),
      seriesCountByLabelValuePair: [],
    };
  }
  async ready(): Promise<boolean> {
    return this.isReady;
  }
  async close(): Promise<void> {}
}

/** Parses `name`, `{a="b"}` and `name{a=~"b",c!="d"}`; enough for match[] tests. */
export function parseSimpleSelector(text: string): Matcher[] {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$/.exec(text.trim());
  if (!m || (m[1] === undefined && m[2] === undefined)) throw badData(`1:1: parse error: unexpected input ${JSON.stringify(text)}`);
  const matchers: Matcher[] = [];
  if (m[1] !== undefined) matchers.push({ type: '=', name: '__name__', value: m[1] });
  for (const part of (m[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const pm = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$/.exec(part);
    if (!pm) throw badData(`1:1: parse error: bad matcher ${JSON.stringify(part)}`);
    matchers.push({ type: pm[2] as Matcher['type'], name: pm[1]!, value: pm[3]! });
  }
  return matchers;
}

/** Just enough PromQL text handling for tests that do not involve the real parser. */
export const simplePromql: PromqlText = {
  parseExpr(text: string): Expr {
    const pos = { start: 0, end: text.length };
    if (/^\d+$/.test(text)) return { kind: 'NumberLiteral', value: Number(text), pos };
    return { kind: 'VectorSelector', name: null, matchers: parseSimpleSelector(text), offsetMs: 0, at: null, pos };
  },
  parseSeriesSelector: parseSimpleSelector,
  formatExpr: (expr) => (expr.kind === 'NumberLiteral' ? String(expr.value) : 'selector'),
  parseDurationMs(text: string): number {
    const m = /^(\d+)(ms|s|m|h)$/.exec(text);
    if (!m) throw badData(`not a valid duration string: ${JSON.stringify(text)}`);
    return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  },
};

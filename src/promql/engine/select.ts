import { compareLabels } from '../../model/labels.js';
import type { Queryable, SeriesData } from '../../storage/types.js';
import type { Expr, SubqueryExpr, VectorSelector } from '../parser/ast.js';

/** The series each vector selector of a query reads, fetched before evaluation starts. */
export type SelectedData = ReadonlyMap<VectorSelector, readonly SeriesData[]>;

export interface SelectorPlan {
  readonly selector: VectorSelector;
  readonly startMs: number;
  readonly endMs: number;
}

interface Window {
  readonly startMs: number;
  readonly endMs: number;
}

/** First multiple of stepMs at or after ms, counted from the Unix epoch. */
export function alignUp(ms: number, stepMs: number): number {
  let aligned = Math.trunc(ms / stepMs) * stepMs;
  if (aligned < ms) aligned += stepMs;
  return aligned;
}

/** The steps a subquery evaluates its inner expression at, given the outer steps' window. */
export function subqueryWindow(
  sq: SubqueryExpr,
  outer: Window,
  defaultStepMs: number,
): Window & { stepMs: number } {
  const stepMs = sq.stepMs > 0 ? sq.stepMs : defaultStepMs;
  const atMs = sq.at?.kind === 'timestamp' ? sq.at.ms : null;
  // A pinned subquery still moves with the outer steps after the first (see referenceTimeMs).
  const endMs = (atMs === null ? outer.endMs : atMs + (outer.endMs - outer.startMs)) - sq.offsetMs;
  const startMs = alignUp((atMs ?? outer.startMs) - sq.offsetMs - sq.rangeMs, stepMs);
  return { startMs, endMs, stepMs };
}

/**
 * Walks a preprocessed AST and works out, for every vector selector, the time range its samples
 * are needed for: evaluation window, subqueries, `@`, offset, and the range or lookback.
 */
export function planSelectors(
  expr: Expr,
  startMs: number,
  endMs: number,
  lookbackMs: number,
  defaultSubqueryStepMs: number,
): SelectorPlan[] {
  const plans: SelectorPlan[] = [];
  const visit = (e: Expr, w: Window, rangeMs: number | null): void => {
    switch (e.kind) {
      case 'VectorSelector': {
        const atMs = e.at?.kind === 'timestamp' ? e.at.ms : null;
        // Like Prometheus, a pinned selector fetches only around its pinned time, even where
        // its reference later moves with the steps (see referenceTimeMs).
        let from = (atMs ?? w.startMs) - e.offsetMs - (rangeMs ?? lookbackMs);
        let to = (atMs ?? w.endMs) - e.offsetMs;
        if (atMs !== null && rangeMs === null) {
          // timestamp(x @ t) reads at t itself, offset or not (as Prometheus does).
          from = Math.min(from, atMs - lookbackMs);
          to = Math.max(to, atMs);
        }
        plans.push({ selector: e, startMs: from, endMs: to });
        return;
      }
      case 'MatrixSelector':
        return visit(e.vector, w, e.rangeMs);
      case 'SubqueryExpr': {
        // A pinned subquery's data is fetched for its pinned window only, as Prometheus does.
        const pinned = e.at !== null ? { startMs: w.startMs, endMs: w.startMs } : w;
        return visit(e.expr, subqueryWindow(e, pinned, defaultSubqueryStepMs), null);
      }
      case 'StepInvariantExpr':
        return visit(e.expr, { startMs: w.startMs, endMs: w.startMs }, null);
      case 'ParenExpr':
      case 'UnaryExpr':
        return visit(e.expr, w, null);
      case 'AggregateExpr':
        if (e.param !== null) visit(e.param, w, null);
        return visit(e.expr, w, null);
      case 'BinaryExpr':
        visit(e.lhs, w, null);
        return visit(e.rhs, w, null);
      case 'Call':
        for (const a of e.args) visit(a, w, null);
        return;
      case 'NumberLiteral':
      case 'StringLiteral':
        return;
    }
  };
  visit(expr, { startMs, endMs }, null);
  return plans;
}

/** One Queryable.select per selector, all issued together; series come back sorted by labels. */
export async function fetchSelectors(
  queryable: Queryable,
  plans: readonly SelectorPlan[],
): Promise<Map<VectorSelector, readonly SeriesData[]>> {
  const results = await Promise.all(
    plans.map((p) =>
      queryable.select({ matchers: p.selector.matchers, startMs: p.startMs, endMs: p.endMs }),
    ),
  );
  const data = new Map<VectorSelector, readonly SeriesData[]>();
  plans.forEach((p, i) => {
    const series = results[i]!;
    // Storage hands series back sorted already; other sources may not.
    data.set(p.selector, sortedByLabels(series) ? series : [...series].sort((a, b) => compareLabels(a.labels, b.labels)));
  });
  return data;
}

function sortedByLabels(series: readonly SeriesData[]): boolean {
  for (let i = 1; i < series.length; i++) if (compareLabels(series[i - 1]!.labels, series[i]!.labels) > 0) return false;
  return true;
}

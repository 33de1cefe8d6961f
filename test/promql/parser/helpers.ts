import type { Expr } from '../../../src/promql/parser/index.js';
import { formatExpr, parseExpr } from '../../../src/promql/parser/index.js';

/** The tree shape of a small expression with every operator application in parentheses. */
export function shape(e: Expr): string {
  switch (e.kind) {
    case 'BinaryExpr':
      return `(${shape(e.lhs)} ${e.op}${e.returnBool ? ' bool' : ''} ${shape(e.rhs)})`;
    case 'UnaryExpr':
      return `(${e.op}${shape(e.expr)})`;
    case 'ParenExpr':
      return `[${shape(e.expr)}]`;
    default:
      return formatExpr(e);
  }
}

export function shapeOf(query: string): string {
  return shape(parseExpr(query));
}

/** The message of the error parseExpr throws, or a note that it threw nothing. */
export function parseErrorOf(query: string): string {
  try {
    parseExpr(query);
  } catch (err) {
    return (err as Error).message;
  }
  return '(no error)';
}

/**
 * The AST without positions and with label matchers in a fixed order, for comparing trees
 * parsed from different texts (printing sorts matchers, as Prometheus does).
 */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'pos') continue;
    out[k] = k === 'matchers' && Array.isArray(v) ? v.map((m) => JSON.stringify(m)).sort() : canonical(v);
  }
  return out;
}

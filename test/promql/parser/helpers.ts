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

/** The AST without positions, for comparing trees parsed from different texts. */
export function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'pos') out[k] = withoutPositions(v);
  return out;
}

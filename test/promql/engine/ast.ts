// Small AST builders so engine tests do not depend on the parser.
import type { Matcher } from '../../../src/model/matchers.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  NumberLiteral,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from '../../../src/promql/parser/ast.js';

const pos = { start: 0, end: 0 };

export function sel(
  name: string,
  labels: Record<string, string> = {},
  mods: { offsetMs?: number; at?: AtModifier } = {},
): VectorSelector {
  const matchers: Matcher[] = [{ type: '=', name: '__name__', value: name }];
  for (const [k, v] of Object.entries(labels)) matchers.push({ type: '=', name: k, value: v });
  return { kind: 'VectorSelector', name, matchers, offsetMs: mods.offsetMs ?? 0, at: mods.at ?? null, pos };
}

export function range(vector: VectorSelector, rangeMs: number): MatrixSelector {
  return { kind: 'MatrixSelector', vector, rangeMs, pos };
}

export function num(value: number): NumberLiteral {
  return { kind: 'NumberLiteral', value, pos };
}

export function call(func: string, ...args: Expr[]): Call {
  return { kind: 'Call', func, args, pos };
}

export function sub(expr: Expr, rangeMs: number, stepMs: number, mods: { offsetMs?: number; at?: AtModifier } = {}): SubqueryExpr {
  return { kind: 'SubqueryExpr', expr, rangeMs, stepMs, offsetMs: mods.offsetMs ?? 0, at: mods.at ?? null, pos };
}

export function agg(op: AggregateOp, expr: Expr, grouping: string[] = [], param: Expr | null = null): AggregateExpr {
  return { kind: 'AggregateExpr', op, expr, param, grouping, without: false, pos };
}

export function bin(op: BinaryOp, lhs: Expr, rhs: Expr, matching: Partial<VectorMatching> | null = null, returnBool = false): BinaryExpr {
  const setOp = op === 'and' || op === 'or' || op === 'unless';
  const full: VectorMatching = {
    card: setOp ? 'many-to-many' : 'one-to-one',
    labels: [],
    on: false,
    include: [],
    ...matching,
  };
  return { kind: 'BinaryExpr', op, lhs, rhs, returnBool, matching: full, pos };
}

export const at = (ms: number): AtModifier => ({ kind: 'timestamp', ms });

import type { AtModifier, Expr } from '../parser/ast.js';
import { AT_MODIFIER_UNSAFE_FUNCTIONS } from './functions/index.js';

/**
 * Prepares an AST for evaluation: resolves `@ start()` / `@ end()` to timestamps and wraps the
 * highest subtrees whose value is the same at every step in StepInvariantExpr, so that the
 * evaluator computes them once. Range selectors and subqueries are never wrapped themselves
 * (functions read them directly); the inside of a subquery is wrapped instead.
 */
export function preprocess(expr: Expr, startMs: number, endMs: number): Expr {
  const [out, invariant] = walk(expr, startMs, endMs);
  return invariant ? wrapInvariant(out) : out;
}

function wrapInvariant(expr: Expr): Expr {
  if (expr.kind === 'ParenExpr') return wrapInvariant(expr.expr);
  if (expr.kind === 'StepInvariantExpr') return expr;
  return { kind: 'StepInvariantExpr', expr, pos: expr.pos };
}

function resolveAt(at: AtModifier | null, startMs: number, endMs: number): AtModifier | null {
  if (at === null || at.kind === 'timestamp') return at;
  return { kind: 'timestamp', ms: at.kind === 'start' ? startMs : endMs };
}

/** Returns the rewritten node and whether it is step invariant. */
function walk(expr: Expr, startMs: number, endMs: number): [Expr, boolean] {
  switch (expr.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
      return [expr, true];
    case 'VectorSelector': {
      const at = resolveAt(expr.at, startMs, endMs);
      return [at === expr.at ? expr : { ...expr, at }, at !== null];
    }
    case 'MatrixSelector': {
      const [vector, invariant] = walk(expr.vector, startMs, endMs);
      return [{ ...expr, vector: vector as typeof expr.vector }, invariant];
    }
    case 'SubqueryExpr': {
      const [inner, innerInvariant] = walk(expr.expr, startMs, endMs);
      const at = resolveAt(expr.at, startMs, endMs);
      return [{ ...expr, expr: innerInvariant ? wrapInvariant(inner) : inner, at }, at !== null];
    }
    case 'ParenExpr':
    case 'UnaryExpr': {
      const [inner, invariant] = walk(expr.expr, startMs, endMs);
      return [{ ...expr, expr: inner }, invariant];
    }
    case 'AggregateExpr': {
      const [inner, innerInvariant] = walk(expr.expr, startMs, endMs);
      if (expr.param === null) return [{ ...expr, expr: inner }, innerInvariant];
      const [param, paramInvariant] = walk(expr.param, startMs, endMs);
      if (innerInvariant && paramInvariant) return [{ ...expr, expr: inner, param }, true];
      return [
        {
          ...expr,
          expr: innerInvariant ? wrapInvariant(inner) : inner,
          param: paramInvariant ? wrapInvariant(param) : param,
        },
        false,
      ];
    }
    case 'BinaryExpr': {
      const [lhs, lhsInvariant] = walk(expr.lhs, startMs, endMs);
      const [rhs, rhsInvariant] = walk(expr.rhs, startMs, endMs);
      if (lhsInvariant && rhsInvariant) return [{ ...expr, lhs, rhs }, true];
      return [
        {
          ...expr,
          lhs: lhsInvariant ? wrapInvariant(lhs) : lhs,
          rhs: rhsInvariant ? wrapInvariant(rhs) : rhs,
        },
        false,
      ];
    }
    case 'Call': {
      const walked = expr.args.map((a) => walk(a, startMs, endMs));
      const safe = !AT_MODIFIER_UNSAFE_FUNCTIONS.has(expr.func);
      const allInvariant = walked.every(([, inv]) => inv);
      if (safe && allInvariant) return [{ ...expr, args: walked.map(([a]) => a) }, true];
      return [{ ...expr, args: walked.map(([a, inv]) => (inv ? wrapInvariant(a) : a)) }, false];
    }
    case 'StepInvariantExpr':
      return [expr, true];
  }
}

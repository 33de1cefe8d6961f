import type { Expr } from './ast.js';

/** The direct sub-expressions of a node, in source order. */
export function children(node: Expr): Expr[] {
  switch (node.kind) {
    case 'BinaryExpr':
      return [node.lhs, node.rhs];
    case 'AggregateExpr':
      return node.param === null ? [node.expr] : [node.param, node.expr];
    case 'Call':
      return [...node.args];
    case 'MatrixSelector':
      return [node.vector];
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return [node.expr];
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return [];
  }
}

/**
 * The first node found more than `limit` levels below the root (the root is level 1), or null.
 * Iterative, so it is safe on trees of any depth.
 */
export function nodeDeeperThan(root: Expr, limit: number): Expr | null {
  const stack: Array<readonly [Expr, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return node;
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
  }
  return null;
}

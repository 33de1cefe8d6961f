import type { Expr, ValueType } from './ast.js';
import { getFunction } from './functions.js';

/** Types of the nodes the parser built, so that asking is O(1) even for very deep trees. */
const known = new WeakMap<Expr, ValueType>();

export function rememberType(node: Expr, type: ValueType): void {
  // Other kinds know their type without looking at children.
  if (dependsOnChildren(node)) known.set(node, type);
}

function dependsOnChildren(node: Expr): boolean {
  return (
    node.kind === 'BinaryExpr' ||
    node.kind === 'UnaryExpr' ||
    node.kind === 'ParenExpr' ||
    node.kind === 'StepInvariantExpr'
  );
}

/** The value type an expression evaluates to. Iterative: safe on arbitrarily deep trees. */
export function typeOf(root: Expr): ValueType {
  const own = directType(root);
  if (own !== undefined) return own;
  const cached = known.get(root);
  if (cached !== undefined) return cached;
  // Post-order walk over the nodes whose type depends on their children.
  const pending: Array<{ node: Expr; expanded: boolean }> = [{ node: root, expanded: false }];
  while (pending.length > 0) {
    const top = pending[pending.length - 1]!;
    const node = top.node;
    if (known.has(node)) {
      pending.pop();
      continue;
    }
    const direct = directType(node);
    if (direct !== undefined) {
      known.set(node, direct);
      pending.pop();
      continue;
    }
    const children = dependencies(node);
    if (!top.expanded) {
      top.expanded = true;
      for (const c of children) if (!known.has(c)) pending.push({ node: c, expanded: false });
      continue;
    }
    pending.pop();
    known.set(node, combine(node, children.map((c) => known.get(c)!)));
  }
  return known.get(root)!;
}

function directType(node: Expr): ValueType | undefined {
  switch (node.kind) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'Call':
      return getFunction(node.func)?.returnType ?? 'vector';
    default:
      return undefined;
  }
}

function dependencies(node: Expr): Expr[] {
  switch (node.kind) {
    case 'BinaryExpr':
      return [node.lhs, node.rhs];
    case 'UnaryExpr':
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return [node.expr];
    default:
      return [];
  }
}

function combine(node: Expr, childTypes: readonly ValueType[]): ValueType {
  if (node.kind === 'BinaryExpr') {
    return childTypes[0] === 'scalar' && childTypes[1] === 'scalar' ? 'scalar' : 'vector';
  }
  return childTypes[0]!;
}

/** How Prometheus names a value type in messages. */
export function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

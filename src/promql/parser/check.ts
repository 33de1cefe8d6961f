/**
 * Type checking of a parsed expression, as Prometheus's checkAST does it, reporting the first
 * problem in the same order. The walk keeps its own stack, so depth is no concern.
 */
import { compileMatcher } from '../../model/matchers.js';
import { METRIC_NAME } from '../../model/labels.js';
import type {
  AggregateExpr,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  ValueType,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { binaryWritten } from './build.js';
import { problem } from './errors.js';
import { goQuote } from './quote.js';
import { getFunction } from './functions.js';
import { documentedType } from './types.js';

type Task = Expr | (() => void);

const COMPARISONS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['and', 'or', 'unless']);

/** Throws a SyntaxProblem for the first type error; returns the expression's type. */
export function checkExpr(root: Expr): ValueType {
  const tasks: Task[] = [root];
  const results: ValueType[] = [];
  const pop = (): ValueType => results.pop()!;
  /** Queues work to run in the order given. */
  const then = (...items: Task[]): void => {
    for (let i = items.length - 1; i >= 0; i--) tasks.push(items[i]!);
  };
  const expectType = (node: Expr, want: ValueType, context: string): Task[] => [
    node,
    () => {
      const got = pop();
      if (got !== want) {
        throw problem(
          node.pos,
          `expected type ${documentedType(want)} in ${context}, got ${documentedType(got)}`,
        );
      }
    },
  ];

  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if (typeof task === 'function') {
      task();
      continue;
    }
    const node = task;
    switch (node.kind) {
      case 'NumberLiteral':
        results.push('scalar');
        break;
      case 'StringLiteral':
        results.push('string');
        break;
      case 'VectorSelector':
        checkSelector(node);
        results.push('vector');
        break;
      case 'MatrixSelector':
        then(node.vector, () => {
          pop();
          results.push('matrix');
        });
        break;
      case 'SubqueryExpr':
        then(node.expr, () => {
          const t = pop();
          if (t !== 'vector') throw problem(node.pos, `subquery is only allowed on instant vector, got ${t} instead`);
          results.push('matrix');
        });
        break;
      case 'ParenExpr':
      case 'StepInvariantExpr':
        then(node.expr, () => results.push(pop()));
        break;
      case 'UnaryExpr':
        then(node.expr, () => {
          const t = pop();
          if (t !== 'scalar' && t !== 'vector') {
            throw problem(
              node.pos,
              `unary expression only allowed on expressions of type scalar or instant vector, got "${documentedType(t)}"`,
            );
          }
          results.push(t);
        });
        break;
      case 'Call':
        then(...callTasks(node, expectType), () => results.push(getFunction(node.func)?.returnType ?? 'vector'));
        break;
      case 'AggregateExpr':
        then(...aggregateTasks(node, expectType), () => results.push('vector'));
        break;
      case 'BinaryExpr':
        then(node.lhs, node.rhs, () => {
          const rt = pop();
          const lt = pop();
          checkBinary(node, lt, rt);
          results.push(lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector');
        });
        break;
    }
  }
  return results.pop()!;
}

type ExpectType = (node: Expr, want: ValueType, context: string) => Task[];

function callTasks(node: Call, expectType: ExpectType): Task[] {
  const fn = getFunction(node.func);
  if (fn === undefined) throw problem(node.pos, `unknown function with name ${goQuote(node.func)}`);
  const name = goQuote(fn.name);
  const declared = fn.argTypes.length;
  const given = node.args.length;
  if (fn.variadic === 0) {
    if (declared !== given) {
      throw problem(node.pos, `expected ${declared} argument(s) in call to ${name}, got ${given}`);
    }
  } else {
    const least = declared - 1;
    if (least > given) {
      throw problem(node.pos, `expected at least ${least} argument(s) in call to ${name}, got ${given}`);
    }
    if (fn.variadic > 0 && least + fn.variadic < given) {
      throw problem(node.pos, `expected at most ${least + fn.variadic} argument(s) in call to ${name}, got ${given}`);
    }
  }
  const tasks: Task[] = [];
  node.args.forEach((arg, i) => {
    const want = fn.argTypes[Math.min(i, declared - 1)]!;
    tasks.push(...expectType(arg, want, `call to function ${name}`));
  });
  return tasks;
}

function aggregateTasks(node: AggregateExpr, expectType: ExpectType): Task[] {
  const tasks = expectType(node.expr, 'vector', 'aggregation expression');
  if (node.param !== null) {
    const want: ValueType = node.op === 'count_values' ? 'string' : 'scalar';
    tasks.push(...expectType(node.param, want, 'aggregation parameter'));
  }
  return tasks;
}

function checkSelector(node: VectorSelector): void {
  if (node.name !== null) {
    // The matcher for the name written before the braces is the last one.
    for (const m of node.matchers.slice(0, -1)) {
      if (m.name === METRIC_NAME) {
        throw problem(
          node.pos,
          `metric name must not be set twice: ${goQuote(node.name)} or ${goQuote(m.value)}`,
        );
      }
    }
    return;
  }
  if (!hasNonEmptyMatcher(node.matchers)) {
    throw problem(node.pos, 'vector selector must contain at least one non-empty matcher');
  }
}

/** True when some matcher rejects the empty string, so the selector cannot select everything. */
export function hasNonEmptyMatcher(matchers: VectorSelector['matchers']): boolean {
  return matchers.some((m) => !compileMatcher(m).matches(''));
}

const DEFAULT_MATCHING: VectorMatching = { card: 'one-to-one', labels: [], on: false, include: [] };

function checkBinary(node: BinaryExpr, lt: ValueType, rt: ValueType): void {
  const asWritten = binaryWritten(node);
  const opPos = asWritten?.opPos ?? node.pos;
  const matching = asWritten?.matching ?? node.matching ?? DEFAULT_MATCHING;
  const op = goQuote(node.op);
  if (node.returnBool && !COMPARISONS.has(node.op)) {
    throw problem(opPos, 'bool modifier can only be used on comparison operators');
  }
  if (COMPARISONS.has(node.op) && !node.returnBool && lt === 'scalar' && rt === 'scalar') {
    throw problem(opPos, 'comparisons between scalars must use BOOL modifier');
  }
  if (matching.on) {
    for (const label of matching.labels) {
      if (matching.include.includes(label)) {
        throw problem(opPos, `label ${goQuote(label)} must not occur in ON and GROUP clause at once`);
      }
    }
  }
  if (lt !== 'scalar' && lt !== 'vector') {
    throw problem(node.lhs.pos, 'binary expression must contain only scalar and instant vector types');
  }
  if (rt !== 'scalar' && rt !== 'vector') {
    throw problem(node.rhs.pos, 'binary expression must contain only scalar and instant vector types');
  }
  if (lt !== 'vector' || rt !== 'vector') {
    if (matching.labels.length > 0) {
      throw problem(node.pos, 'vector matching only allowed between instant vectors');
    }
  } else if (SET_OPS.has(node.op) && matching.card !== 'many-to-many') {
    throw problem(node.pos, `no grouping allowed for ${op} operation`);
  }
  if ((lt === 'scalar' || rt === 'scalar') && SET_OPS.has(node.op)) {
    throw problem(node.pos, `set operator ${op} not allowed in binary scalar expression`);
  }
}

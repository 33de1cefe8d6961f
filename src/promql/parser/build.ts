/**
 * Node constructors called from the grammar's actions, with the checks Prometheus makes while
 * parsing (offset/@/range placement, unknown functions, literal values, aggregation arity).
 * Type checking of the finished tree is in check.ts.
 */
import { compileRegex, type MatchType, type Matcher } from '../../model/matchers.js';
import { METRIC_NAME } from '../../model/labels.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Cardinality,
  Expr,
  MatrixSelector,
  NumberLiteral,
  ParenExpr,
  PosRange,
  StringLiteral,
  SubqueryExpr,
  UnaryExpr,
  ValueType,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { problem, problemAfterNextToken } from './errors.js';
import { goQuote } from './quote.js';
import { getFunction } from './functions.js';
import { durationMs, numberValue, stringValue } from './literals.js';
import { rememberType, typeOf } from './types.js';

export function posOf(r: { start: number; end: number }): PosRange {
  return { start: r.start, end: r.end };
}

/** A word of the query with its position (keywords, function and aggregation names). */
export interface Word {
  readonly text: string;
  readonly pos: PosRange;
}

export function word(text: string, pos: PosRange): Word {
  return { text, pos };
}

export interface OperatorToken {
  readonly op: BinaryOp;
  readonly pos: PosRange;
}

export function operator(text: string, pos: PosRange): OperatorToken {
  return { op: text.toLowerCase() as BinaryOp, pos };
}

// ---- Word classes ------------------------------------------------------------------------

const AGGREGATE_OPS: ReadonlySet<string> = new Set<AggregateOp>([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);

const PARAMETER_AGGREGATES: ReadonlySet<string> = new Set(['topk', 'bottomk', 'quantile', 'count_values']);

/** Words the lexer never turns into identifiers. */
const KEYWORDS: ReadonlySet<string> = new Set([
  ...AGGREGATE_OPS,
  'and',
  'or',
  'unless',
  'atan2',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'start',
  'end',
  'inf',
  'nan',
]);

/** Keywords that can never name a metric (the others can: `sum`, `by`, `offset`, `start`, ...). */
const NOT_METRIC_NAMES: ReadonlySet<string> = new Set([
  'bool',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'atan2',
  'inf',
  'nan',
]);

/** Keywords that cannot be grouping labels in Prometheus 2.42 (the lexer reads them otherwise). */
const NOT_GROUPING_LABELS: ReadonlySet<string> = new Set(['without', 'inf', 'nan']);

const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isKeyword(w: string, keyword: string): boolean {
  return w.toLowerCase() === keyword;
}

export function isAggregateOp(w: string): boolean {
  return AGGREGATE_OPS.has(w.toLowerCase());
}

export function isMetricName(w: string): boolean {
  return !NOT_METRIC_NAMES.has(w.toLowerCase());
}

export function isFunctionName(w: string): boolean {
  return !w.includes(':') && !KEYWORDS.has(w.toLowerCase());
}

/** Whether a word can begin an expression: anything but the keywords that only modify operators. */
export function canStartExpr(w: string): boolean {
  return isMetricName(w) || NUMBER_WORDS.has(w.toLowerCase());
}

const NUMBER_WORDS: ReadonlySet<string> = new Set(['inf', 'nan']);

export function isGroupingLabel(w: string): boolean {
  return LABEL_RE.test(w) && !NOT_GROUPING_LABELS.has(w.toLowerCase());
}

// ---- Literals ----------------------------------------------------------------------------

export function numberLiteral(text: string, pos: PosRange): NumberLiteral {
  const value = numberValue(text);
  if (typeof value === 'string') throw problem(pos, value);
  return typed({ kind: 'NumberLiteral', value, pos }, 'scalar');
}

export function stringLiteral(token: string, pos: PosRange): StringLiteral {
  return typed({ kind: 'StringLiteral', value: stringValue(token), pos }, 'string');
}

/** A duration token in ms; Prometheus rejects zero durations in queries. */
export function duration(text: string, pos: PosRange): number {
  const ms = durationMs(text);
  if (typeof ms === 'string') throw problem(pos, ms);
  if (ms === 0) throw problem(pos, 'duration must be greater than 0');
  return ms;
}

export function signedNumber(sign: string | null, n: Word): number {
  const value = numberValue(n.text);
  if (typeof value === 'string') throw problem(n.pos, value);
  return sign === '-' ? -value : value;
}

// ---- Selectors ---------------------------------------------------------------------------

export function labelMatcher(name: string, op: string, valueToken: string, pos: PosRange): Matcher {
  const matcher: Matcher = { type: op as MatchType, name, value: stringValue(valueToken) };
  if (matcher.type === '=~' || matcher.type === '!~') {
    try {
      compileRegex(matcher.value);
    } catch (err) {
      throw problem(pos, err instanceof Error ? err.message : String(err));
    }
  }
  return matcher;
}

export function vectorSelector(
  name: string | null,
  matchers: readonly Matcher[],
  pos: PosRange,
): VectorSelector {
  const all = name === null ? matchers : [...matchers, { type: '=' as const, name: METRIC_NAME, value: name }];
  return typed({ kind: 'VectorSelector', name, matchers: all, offsetMs: 0, at: null, pos }, 'vector');
}

// ---- Calls and aggregations --------------------------------------------------------------

export function argList(head: Expr, tail: readonly Expr[], trailingComma: PosRange | null): Expr[] {
  if (trailingComma !== null) {
    throw problemAfterNextToken(trailingComma, 'trailing commas not allowed in function call args');
  }
  return [head, ...tail];
}

export function call(name: Word, args: readonly Expr[], pos: PosRange): Call {
  const fn = getFunction(name.text);
  if (fn === undefined) throw problem(name.pos, `unknown function with name ${goQuote(name.text)}`);
  return typed({ kind: 'Call', func: fn.name, args, pos }, fn.returnType);
}

export interface AggregateModifier {
  readonly without: boolean;
  readonly labels: readonly string[];
}

export function aggregateModifier(keyword: Word, labels: readonly string[]): AggregateModifier {
  return { without: isKeyword(keyword.text, 'without'), labels };
}

export function aggregate(
  op: Word,
  modifier: AggregateModifier | null,
  args: readonly Expr[],
  pos: PosRange,
): AggregateExpr {
  const name = op.text.toLowerCase() as AggregateOp;
  // Without a by/without clause yet, one could still follow the arguments.
  const fail = modifier === null ? problemAfterNextToken : problem;
  if (args.length === 0) throw fail(pos, 'no arguments for aggregate expression provided');
  const wanted = PARAMETER_AGGREGATES.has(name) ? 2 : 1;
  if (args.length !== wanted) {
    throw fail(
      pos,
      `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`,
    );
  }
  const node: AggregateExpr = {
    kind: 'AggregateExpr',
    op: name,
    expr: args[wanted - 1]!,
    param: wanted === 2 ? args[0]! : null,
    grouping: modifier?.labels ?? [],
    without: modifier?.without ?? false,
    pos,
  };
  return typed(node, 'vector');
}

// ---- Operators ---------------------------------------------------------------------------

export function paren(expr: Expr, pos: PosRange): ParenExpr {
  return typed({ kind: 'ParenExpr', expr, pos }, typeOf(expr));
}

/** Unary minus on a number literal folds into the literal, as Prometheus does. */
export function unary(op: string, expr: Expr, pos: PosRange): Expr {
  if (expr.kind === 'NumberLiteral') {
    return typed({ kind: 'NumberLiteral', value: op === '-' ? -expr.value : expr.value, pos }, 'scalar');
  }
  const node: UnaryExpr = { kind: 'UnaryExpr', op: op === '-' ? '-' : '+', expr, pos };
  return typed(node, typeOf(expr));
}

interface GroupModifier {
  readonly card: Cardinality;
  readonly include: readonly string[];
}

interface MatchingClause {
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly group: GroupModifier | null;
}

export interface BinModifier {
  readonly returnBool: boolean;
  readonly matching: MatchingClause | null;
}

export function groupModifier(keyword: Word, labels: readonly string[] | null): GroupModifier {
  const card: Cardinality = isKeyword(keyword.text, 'group_left') ? 'many-to-one' : 'one-to-many';
  return { card, include: labels ?? [] };
}

export function vectorMatching(
  keyword: Word,
  labels: readonly string[],
  group: GroupModifier | null,
): MatchingClause {
  return { on: isKeyword(keyword.text, 'on'), labels, group };
}

export function binModifier(returnBool: boolean, matching: MatchingClause | null): BinModifier {
  return { returnBool, matching };
}

export interface BinaryTail {
  readonly op: OperatorToken;
  readonly modifier: BinModifier;
  readonly rhs: Expr;
}

export function binaryTail(op: OperatorToken, modifier: BinModifier, rhs: Expr): BinaryTail {
  return { op, modifier, rhs };
}

/**
 * What was written between the operands, kept for the type checker: the matching clause as
 * written (the node's `matching` is already normalised for the operand types) and where the
 * operator is.
 */
export interface BinaryWritten {
  readonly opPos: PosRange;
  readonly matching: VectorMatching;
}

const written = new WeakMap<BinaryExpr, BinaryWritten>();

export function binaryWritten(node: BinaryExpr): BinaryWritten | undefined {
  return written.get(node);
}

const SET_OPS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['and', 'or', 'unless']);

/** Folds `a op b op c` to the left. */
export function binaryChain(head: Expr, tails: readonly BinaryTail[]): Expr {
  let lhs = head;
  for (const t of tails) lhs = binary(lhs, t);
  return lhs;
}

function binary(lhs: Expr, tail: BinaryTail): BinaryExpr {
  const { op, modifier, rhs } = tail;
  const clause = modifier.matching;
  let card: Cardinality = clause?.group?.card ?? 'one-to-one';
  if (SET_OPS.has(op.op) && card === 'one-to-one') card = 'many-to-many';
  const asWritten: VectorMatching = {
    card,
    labels: clause?.labels ?? [],
    on: clause?.on ?? false,
    include: clause?.group?.include ?? [],
  };
  const lt = typeOf(lhs);
  const rt = typeOf(rhs);
  const bothVectors = lt === 'vector' && rt === 'vector';
  const node: BinaryExpr = {
    kind: 'BinaryExpr',
    op: op.op,
    lhs,
    rhs,
    returnBool: modifier.returnBool,
    matching: bothVectors ? asWritten : null,
    pos: { start: lhs.pos.start, end: rhs.pos.end },
  };
  written.set(node, { opPos: op.pos, matching: asWritten });
  return typed(node, lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector');
}

// ---- Postfix modifiers: offset, @, [range], [range:step] --------------------------------

export type PostfixModifier =
  | { readonly kind: 'offset'; readonly ms: number; readonly pos: PosRange }
  | { readonly kind: 'at'; readonly at: AtModifier | number; readonly pos: PosRange }
  | { readonly kind: 'range'; readonly rangeMs: number; readonly pos: PosRange }
  | { readonly kind: 'subquery'; readonly rangeMs: number; readonly stepMs: number; readonly pos: PosRange };

export function offsetModifier(negative: boolean, ms: number, pos: PosRange): PostfixModifier {
  return { kind: 'offset', ms: negative ? -ms : ms, pos };
}

export function atModifier(value: Word | number, pos: PosRange): PostfixModifier {
  if (typeof value === 'number') return { kind: 'at', at: value, pos };
  return { kind: 'at', at: { kind: isKeyword(value.text, 'start') ? 'start' : 'end' }, pos };
}

export function subqueryStep(stepMs: number | null): { readonly stepMs: number } {
  return { stepMs: stepMs ?? 0 };
}

export function rangeOrSubquery(
  rangeMs: number,
  step: { readonly stepMs: number } | null,
  pos: PosRange,
): PostfixModifier {
  if (step === null) return { kind: 'range', rangeMs, pos };
  return { kind: 'subquery', rangeMs, stepMs: step.stepMs, pos };
}

export function postfix(base: Expr, modifiers: readonly PostfixModifier[]): Expr {
  let e = base;
  for (const m of modifiers) {
    switch (m.kind) {
      case 'offset':
        e = withOffset(e, m.ms, m.pos.end);
        break;
      case 'at':
        e = withAt(e, m.at, m.pos.end);
        break;
      case 'range':
        e = matrixSelector(e, m.rangeMs, m.pos);
        break;
      case 'subquery':
        e = subquery(e, m.rangeMs, m.stepMs, m.pos);
        break;
    }
  }
  return e;
}

function matrixSelector(e: Expr, rangeMs: number, bracketPos: PosRange): MatrixSelector {
  if (e.kind !== 'VectorSelector') throw problem(bracketPos, 'ranges only allowed for vector selectors');
  if (e.offsetMs !== 0) throw problem(bracketPos, 'no offset modifiers allowed before range');
  if (e.at !== null) throw problem(bracketPos, 'no @ modifiers allowed before range');
  const node: MatrixSelector = {
    kind: 'MatrixSelector',
    vector: e,
    rangeMs,
    pos: { start: e.pos.start, end: bracketPos.end },
  };
  return typed(node, 'matrix');
}

function subquery(e: Expr, rangeMs: number, stepMs: number, bracketPos: PosRange): SubqueryExpr {
  const node: SubqueryExpr = {
    kind: 'SubqueryExpr',
    expr: e,
    rangeMs,
    stepMs,
    offsetMs: 0,
    at: null,
    pos: { start: e.pos.start, end: bracketPos.end },
  };
  return typed(node, 'matrix');
}

function withOffset(e: Expr, ms: number, end: number): Expr {
  const pos = { start: e.pos.start, end };
  switch (e.kind) {
    case 'VectorSelector':
      if (e.offsetMs !== 0) throw problem(e.pos, 'offset may not be set multiple times');
      return typed({ ...e, offsetMs: ms, pos }, 'vector');
    case 'MatrixSelector':
      if (e.vector.offsetMs !== 0) throw problem(e.pos, 'offset may not be set multiple times');
      return typed({ ...e, vector: { ...e.vector, offsetMs: ms }, pos }, 'matrix');
    case 'SubqueryExpr':
      if (e.offsetMs !== 0) throw problem(e.pos, 'offset may not be set multiple times');
      return typed({ ...e, offsetMs: ms, pos }, 'matrix');
    default:
      throw problem(
        e.pos,
        'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
  }
}

const INT64_LIMIT = 2 ** 63;

function withAt(e: Expr, at: AtModifier | number, end: number): Expr {
  let modifier: AtModifier;
  if (typeof at === 'number') {
    if (!Number.isFinite(at) || at >= INT64_LIMIT || at <= -INT64_LIMIT) {
      throw problem(e.pos, `timestamp out of bounds for @ modifier: ${goFixed(at)}`);
    }
    modifier = { kind: 'timestamp', ms: roundHalfAwayFromZero(at * 1000) };
  } else {
    modifier = at;
  }
  const pos = { start: e.pos.start, end };
  const twice = '@ <timestamp> may not be set multiple times';
  switch (e.kind) {
    case 'VectorSelector':
      if (e.at !== null) throw problem(e.pos, twice);
      return typed({ ...e, at: modifier, pos }, 'vector');
    case 'MatrixSelector':
      if (e.vector.at !== null) throw problem(e.pos, twice);
      return typed({ ...e, vector: { ...e.vector, at: modifier }, pos }, 'matrix');
    case 'SubqueryExpr':
      if (e.at !== null) throw problem(e.pos, twice);
      return typed({ ...e, at: modifier, pos }, 'matrix');
    default:
      throw problem(
        e.pos,
        '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
      );
  }
}

function roundHalfAwayFromZero(x: number): number {
  const r = Math.sign(x) * Math.round(Math.abs(x));
  return r === 0 ? 0 : r;
}

/** Go's `%f`. */
function goFixed(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Math.abs(x) < 1e21) return x.toFixed(6);
  return `${BigInt(x).toString()}.000000`;
}

function typed<T extends Expr>(node: T, type: ValueType): T {
  rememberType(node, type);
  return node;
}

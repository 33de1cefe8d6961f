/**
 * The PromQL parser: query text in, typed and type-checked AST out. It knows nothing about
 * storage or evaluation. Every failure is a ParseError (a MetricstorError of type bad_data).
 */
import { badData } from '../../errors.js';
import type { Matcher } from '../../model/matchers.js';
import type { Expr, PosRange, ValueType, VectorSelector } from './ast.js';
import { checkExpr } from './check.js';
import { ParseError, SyntaxProblem } from './errors.js';
import { parse as generatedParse, SyntaxError as GrammarError } from './generated/parser.js';
import { describeToken, lex, type LexResult, type Token } from './lexer.js';
import { durationMs } from './literals.js';
import { typeOf } from './types.js';
import { nodeDeeperThan } from './walk.js';

export type * from './ast.js';
export { ParseError, isParseError } from './errors.js';
export { FUNCTIONS, getFunction, type FunctionSignature } from './functions.js';
export { MAX_NESTING_DEPTH } from './lexer.js';
export { formatExpr } from './format.js';
export { hasNonEmptyMatcher } from './check.js';
export { documentedType } from './types.js';
export { children } from './walk.js';

/**
 * Deepest expression tree accepted. Textual nesting is bounded by MAX_NESTING_DEPTH before
 * parsing; this bounds what flat operator chains (`a + b + c + ...`) build, so that code which
 * walks the tree recursively, such as an evaluator, stays far from the stack limit.
 */
export const MAX_EXPR_DEPTH = 1000;

/**
 * Most tokens a query may have. Parsing costs about 15 µs a token and blocks the process, so a
 * 4 MB query body of `1+1+...` would hold it for half a minute; Prometheus has no such cap, but
 * no query a person or Grafana writes comes near it.
 */
export const MAX_QUERY_TOKENS = 30_000;

/** Parses and type-checks a PromQL expression. */
export function parseExpr(query: string): Expr {
  const expr = parseWith(query, 'Query') as Expr;
  try {
    checkExpr(expr);
  } catch (err) {
    throw asParseError(query, err);
  }
  const tooDeep = nodeDeeperThan(expr, MAX_EXPR_DEPTH);
  if (tooDeep !== null) {
    throw new ParseError(
      query,
      tooDeep.pos,
      `expression is too deep: more than ${MAX_EXPR_DEPTH} levels of operators, calls and modifiers`,
    );
  }
  return expr;
}

/**
 * Parses a bare series selector such as a `match[]` parameter (`up{job="x"}`, `{__name__=~"a.*"}`).
 * Like Prometheus's ParseMetricSelector it does not insist on a non-empty matcher; callers that
 * need one use hasNonEmptyMatcher.
 */
export function parseSeriesSelector(selector: string): Matcher[] {
  const vs = parseWith(selector, 'SeriesSelector') as VectorSelector;
  return [...vs.matchers];
}

/** A Prometheus duration (`1h30m`, `5m`, `1y`, `500ms`, `0`) in milliseconds. */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (typeof ms === 'string') throw badData(ms);
  return ms;
}

/** The value type an expression evaluates to. */
export function exprType(expr: Expr): ValueType {
  return typeOf(expr);
}

type StartRule = 'Query' | 'SeriesSelector';

function parseWith(query: string, startRule: StartRule): Expr {
  const scanned = lex(query);
  const lexError = scanned.error;
  if (scanned.tooDeep !== null && (lexError === null || scanned.tooDeep.start <= lexError.tokenStart)) {
    throw new ParseError(query, scanned.tooDeep, scanned.tooDeep.reason);
  }
  // The lexer ends with an EOF token.
  if (scanned.tokens.length - 1 > MAX_QUERY_TOKENS) {
    const first = scanned.tokens[MAX_QUERY_TOKENS]!;
    throw new ParseError(query, { start: first.start, end: first.end }, `query is too long: more than ${MAX_QUERY_TOKENS} tokens`);
  }
  if (startRule === 'Query' && lexError === null && scanned.tokens.length === 1) {
    throw new ParseError(query, { start: 0, end: 0 }, 'no expression found in input');
  }
  // Parse only what lexed cleanly: Prometheus reports a lexical error once the parser reaches
  // it, so a syntax error before it wins and anything after it is never looked at.
  const text = lexError === null ? query : query.slice(0, lexError.tokenStart);
  let result: Expr;
  try {
    result = generatedParse(text, { startRule });
  } catch (err) {
    if (err instanceof SyntaxProblem) {
      // A construct ending at the last clean token is only complete once the parser has seen
      // the token after it, which is the lexical error: Prometheus reports that first.
      const lastClean = scanned.tokens[scanned.tokens.length - 1];
      const reachedError = lastClean === undefined || err.pos.end >= lastClean.end;
      if (lexError !== null && reachedError && err.needsNextToken) {
        throw new ParseError(query, lexError, lexError.reason);
      }
      throw new ParseError(query, err.pos, err.reason);
    }
    if (!(err instanceof GrammarError)) throw err;
    const failedAt = err.location.start.offset;
    if (lexError !== null && failedAt >= lexError.tokenStart) {
      throw new ParseError(query, lexError, lexError.reason);
    }
    throw unexpected(query, scanned, failedAt);
  }
  if (lexError !== null) throw new ParseError(query, lexError, lexError.reason);
  return result;
}

function asParseError(query: string, err: unknown): unknown {
  return err instanceof SyntaxProblem ? new ParseError(query, err.pos, err.reason) : err;
}

/** `unexpected <token> [in <context>][, expected <what>]`, as Prometheus's parser words it. */
function unexpected(query: string, scanned: LexResult, offset: number): ParseError {
  const tokens = scanned.tokens;
  let index = tokens.findIndex((t) => t.end > offset || t.type === 'EOF');
  if (index === -1) index = tokens.length - 1;
  const token = tokens[index];
  if (token === undefined) return new ParseError(query, { start: offset, end: offset }, 'unexpected end of input');
  const pos: PosRange = { start: token.start, end: token.end };
  return new ParseError(query, pos, `unexpected ${describeToken(token)}${context(tokens, index)}`);
}

const LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERAND_KEYWORDS = new Set(['bool', 'group_left', 'group_right']);

function context(tokens: readonly Token[], index: number): string {
  const token = tokens[index]!;
  const prev = tokens[index - 1];
  const prev2 = tokens[index - 2];
  const inBraces =
    (token.inBraces && token.type !== 'LEFT_BRACE') || (prev?.inBraces === true && prev.type !== 'RIGHT_BRACE');
  if (inBraces) {
    switch (prev?.type) {
      case 'EQL':
      case 'OPERATOR':
        return ' in label matching, expected string';
      case 'IDENTIFIER':
        return ' in label matching, expected label matching operator';
      case 'LEFT_BRACE':
      case 'COMMA':
        return ' in label matching, expected identifier or "}"';
      case 'STRING':
        return ' in label matching, expected "," or "}"';
    }
  }
  if (isOffsetModifier(tokens, index - 1) || (prev?.text === '-' && isOffsetModifier(tokens, index - 2))) {
    return ' in offset, expected duration';
  }
  if (afterAt(tokens, index)) return ' in @, expected timestamp';
  if (prev?.type === 'LEFT_BRACKET') return ' in subquery selector, expected duration';
  if (prev?.type === 'DURATION' && prev2?.type === 'LEFT_BRACKET') return ' in subquery or range, expected ":" or "]"';
  if (prev?.type === 'COLON') return ' in subquery selector, expected duration or "]"';
  if (prev?.type === 'DURATION' && prev2?.type === 'COLON') return ' in subquery selector, expected "]"';
  if (isListKeyword(tokens, index - 1) && token.type !== 'LEFT_PAREN') return ' in grouping opts, expected "("';
  const open = enclosingParen(tokens, index);
  if (open !== -1 && isListKeyword(tokens, open - 1)) {
    return prev?.type === 'LEFT_PAREN' || prev?.type === 'COMMA'
      ? ' in grouping opts, expected label'
      : ' in grouping opts, expected "," or ")"';
  }
  if (inAggregation(tokens, index)) return ' in aggregation';
  return '';
}

const lower = (t: Token | undefined): string => t?.text.toLowerCase() ?? '';

/** Whether tokens[i] is `offset` used as a modifier rather than as a metric name. */
function isOffsetModifier(tokens: readonly Token[], i: number): boolean {
  return lower(tokens[i]) === 'offset' && i > 0 && !expectsOperand(tokens, i - 1);
}

/** Whether an expression must start after tokens[i]. */
function expectsOperand(tokens: readonly Token[], i: number): boolean {
  const t = tokens[i]!;
  switch (t.type) {
    case 'OPERATOR':
    case 'COMMA':
    case 'LEFT_PAREN':
    case 'EQL':
      return true;
    case 'KEYWORD':
      return OPERAND_KEYWORDS.has(lower(t));
    case 'RIGHT_PAREN': {
      // After the label list of on/ignoring/group_left/group_right comes the right operand.
      const open = matchingOpen(tokens, i);
      const keyword = lower(tokens[open - 1]);
      return open > 0 && isListKeyword(tokens, open - 1) && keyword !== 'by' && keyword !== 'without';
    }
    default:
      return false;
  }
}

/**
 * Whether tokens[i] is a keyword that must be followed by a list of label names: on, ignoring,
 * group_left, group_right, and by/without written before an aggregation's arguments.
 */
function isListKeyword(tokens: readonly Token[], i: number): boolean {
  const t = tokens[i];
  if (t?.type !== 'KEYWORD' || !LIST_KEYWORDS.has(lower(t))) return false;
  const before = tokens[i - 1];
  // Inside a list of label names keywords are just names.
  if (before?.type === 'COMMA' || (before?.type === 'LEFT_PAREN' && isListKeyword(tokens, i - 2))) return false;
  if (lower(t) !== 'by' && lower(t) !== 'without') return true;
  if (before?.type === 'AGGREGATOR') return true;
  return before?.type === 'RIGHT_PAREN' && tokens[matchingOpen(tokens, i - 1) - 1]?.type === 'AGGREGATOR';
}

/** Index of the innermost unclosed "(" before tokens[index], or -1. */
function enclosingParen(tokens: readonly Token[], index: number): number {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.type === 'RIGHT_PAREN') depth++;
    else if (t.type === 'LEFT_PAREN') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** Index of the "(" that the ")" at tokens[close] closes, or -1. */
function matchingOpen(tokens: readonly Token[], close: number): number {
  return enclosingParen(tokens, close);
}

/**
 * Whether tokens[index] lies inside an aggregation that has not been completed: within its
 * arguments, or between a leading by/without list and the arguments.
 */
function inAggregation(tokens: readonly Token[], index: number): boolean {
  const prev = tokens[index - 1];
  if (prev?.type === 'RIGHT_PAREN') {
    const open = matchingOpen(tokens, index - 1);
    if (open > 0 && isListKeyword(tokens, open - 1) && tokens[open - 2]?.type === 'AGGREGATOR') return true;
  }
  for (let open = enclosingParen(tokens, index); open !== -1; open = enclosingParen(tokens, open)) {
    const before = tokens[open - 1];
    if (before?.type === 'AGGREGATOR') return true;
    if (before?.type === 'RIGHT_PAREN') {
      const listOpen = matchingOpen(tokens, open - 1);
      if (listOpen > 0 && isListKeyword(tokens, listOpen - 1) && tokens[listOpen - 2]?.type === 'AGGREGATOR') {
        return true;
      }
    }
  }
  return false;
}

/** Whether tokens[index] is where an `@` modifier's timestamp, sign or start()/end() should be. */
function afterAt(tokens: readonly Token[], index: number): boolean {
  for (let i = index - 1; i >= Math.max(0, index - 4); i--) {
    const t = tokens[i]!;
    if (t.type === 'AT') return true;
    const partOfModifier =
      t.type === 'PREPROCESSOR' || t.type === 'LEFT_PAREN' || t.text === '-' || t.text === '+';
    if (!partOfModifier) return false;
  }
  return false;
}

/**
 * A linear, non-recursive scan of a query into Prometheus's tokens. The Peggy grammar does the
 * parsing; this scan runs first and serves three purposes:
 *   - it finds the lexical errors Prometheus's lexer reports (unterminated strings, bad escapes,
 *     bad numbers and durations, stray characters, unbalanced parentheses), with its wording;
 *   - it bounds the nesting depth before the recursive-descent parser runs (MAX_NESTING_DEPTH);
 *   - it names the token at which the grammar failed, for `unexpected ...` messages.
 */
import { goQuote, isPrintable, quoteRune } from './quote.js';

/** Deepest nesting of parentheses, braces, brackets, unary operators and `^` chains accepted. */
export const MAX_NESTING_DEPTH = 256;

export type TokenType =
  | 'EOF'
  | 'COMMA'
  | 'LEFT_PAREN'
  | 'RIGHT_PAREN'
  | 'LEFT_BRACE'
  | 'RIGHT_BRACE'
  | 'LEFT_BRACKET'
  | 'RIGHT_BRACKET'
  | 'COLON'
  | 'AT'
  | 'EQL'
  | 'OPERATOR'
  | 'AGGREGATOR'
  | 'KEYWORD'
  | 'PREPROCESSOR'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  | 'IDENTIFIER'
  | 'METRIC_IDENTIFIER';

export interface Token {
  readonly type: TokenType;
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** Lexed between `{` and `}`. */
  readonly inBraces: boolean;
}

export interface LexProblem {
  readonly start: number;
  readonly end: number;
  readonly reason: string;
  /** Where the offending token begins; parsing stops there. */
  readonly tokenStart: number;
}

export interface LexResult {
  readonly tokens: readonly Token[];
  /** The first lexical error, if any; tokens stop there. */
  readonly error: LexProblem | null;
  /** Set when the nesting limit is passed (before any lexical error). */
  readonly tooDeep: LexProblem | null;
}

const WORD_TYPES: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['and', 'OPERATOR'],
  ['or', 'OPERATOR'],
  ['unless', 'OPERATOR'],
  ['atan2', 'OPERATOR'],
  ['sum', 'AGGREGATOR'],
  ['avg', 'AGGREGATOR'],
  ['count', 'AGGREGATOR'],
  ['min', 'AGGREGATOR'],
  ['max', 'AGGREGATOR'],
  ['group', 'AGGREGATOR'],
  ['stddev', 'AGGREGATOR'],
  ['stdvar', 'AGGREGATOR'],
  ['topk', 'AGGREGATOR'],
  ['bottomk', 'AGGREGATOR'],
  ['count_values', 'AGGREGATOR'],
  ['quantile', 'AGGREGATOR'],
  ['offset', 'KEYWORD'],
  ['by', 'KEYWORD'],
  ['without', 'KEYWORD'],
  ['on', 'KEYWORD'],
  ['ignoring', 'KEYWORD'],
  ['group_left', 'KEYWORD'],
  ['group_right', 'KEYWORD'],
  ['bool', 'KEYWORD'],
  ['start', 'PREPROCESSOR'],
  ['end', 'PREPROCESSOR'],
  ['inf', 'NUMBER'],
  ['nan', 'NUMBER'],
]);

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean =>
  c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlphaNumeric = (c: string): boolean => isAlpha(c) || isDigit(c);
const isHexDigit = (c: string): boolean =>
  isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/** Go's `%#U`: `U+0063 'c'`. */
function unicodeRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrintable(c) ? `U+${hex} '${c}'` : `U+${hex}`;
}

/** How Prometheus names a token in `unexpected ...` messages. */
export function describeToken(t: Token): string {
  switch (t.type) {
    case 'EOF':
      return 'end of input';
    case 'AT':
      // Prometheus's lexer has no display name for `@`; this is how its messages show it.
      return '"<Item 57385>" <op:@>';
    case 'IDENTIFIER':
      return `identifier ${goQuote(t.text)}`;
    case 'METRIC_IDENTIFIER':
      return `metric identifier ${goQuote(t.text)}`;
    case 'KEYWORD':
      return `<${t.text}>`;
    case 'OPERATOR':
      return `<op:${t.text}>`;
    case 'AGGREGATOR':
      return `<aggr:${t.text}>`;
    case 'NUMBER':
      return `number ${shortQuote(t.text)}`;
    case 'DURATION':
      return `duration ${shortQuote(t.text)}`;
    case 'STRING':
      return `string ${shortQuote(t.text)}`;
    default:
      return shortQuote(t.text);
  }
}

function shortQuote(s: string): string {
  const chars = [...s];
  if (chars.length > 10) return `${goQuote(chars.slice(0, 10).join(''))}...`;
  return goQuote(s);
}

type LevelKind = 'expr' | 'labels' | 'matching';

interface Level {
  readonly kind: LevelKind;
  chain: number;
}

/** Scans the whole query. Never recursive; stops at the first lexical error. */
export function lex(input: string): LexResult {
  const tokens: Token[] = [];
  let pos = 0;
  let braceOpen = false;
  let bracketOpen = false;
  let gotColon = false;
  let parenDepth = 0;

  // Nesting bookkeeping, see MAX_NESTING_DEPTH.
  const levels: Level[] = [{ kind: 'expr', chain: 0 }];
  let depth = 0;
  let expectOperand = true;
  let afterSignedModifier = false;
  let tooDeep: LexProblem | null = null;

  const fail = (tokenStart: number, reason: string, reportedAt = tokenStart): LexResult => ({
    tokens,
    error: { start: reportedAt, end: input.length, reason, tokenStart },
    tooDeep,
  });

  const deeper = (by: number, start: number): void => {
    depth += by;
    if (depth > MAX_NESTING_DEPTH && tooDeep === null) {
      tooDeep = {
        start,
        end: start + 1,
        tokenStart: start,
        reason: `expression nesting is too deep: more than ${MAX_NESTING_DEPTH} levels of parentheses, function calls, unary operators or "^"`,
      };
    }
  };
  const top = (): Level => levels[levels.length - 1]!;
  const resetChain = (): void => {
    depth -= top().chain;
    top().chain = 0;
  };

  const emit = (type: TokenType, start: number, end: number): void => {
    const text = input.slice(start, end);
    tokens.push({ type, start, end, text, inBraces: braceOpen });
    track(type, text.toLowerCase(), start);
  };

  const track = (type: TokenType, lower: string, start: number): void => {
    const wasAfterSigned = afterSignedModifier;
    afterSignedModifier = false;
    switch (type) {
      case 'LEFT_PAREN': {
        const before = tokens[tokens.length - 2];
        const word = before?.type === 'KEYWORD' ? before.text.toLowerCase() : '';
        let kind: LevelKind = 'expr';
        if (word === 'by' || word === 'without') kind = 'labels';
        if (word === 'on' || word === 'ignoring' || word === 'group_left' || word === 'group_right')
          kind = 'matching';
        levels.push({ kind, chain: 0 });
        deeper(1, start);
        expectOperand = true;
        return;
      }
      case 'LEFT_BRACE':
      case 'LEFT_BRACKET':
        levels.push({ kind: 'expr', chain: 0 });
        deeper(1, start);
        return;
      case 'RIGHT_PAREN':
      case 'RIGHT_BRACE':
      case 'RIGHT_BRACKET': {
        const closed = levels.length > 1 ? levels.pop()! : undefined;
        if (closed) depth -= 1 + closed.chain;
        expectOperand = closed?.kind === 'matching';
        return;
      }
      case 'COMMA':
        resetChain();
        expectOperand = true;
        return;
      case 'OPERATOR': {
        if ((lower === '+' || lower === '-') && (expectOperand || wasAfterSigned)) {
          if (wasAfterSigned) return;
          top().chain++;
          deeper(1, start);
          return;
        }
        if (lower === '^') {
          top().chain++;
          deeper(1, start);
        } else {
          resetChain();
        }
        expectOperand = true;
        return;
      }
      case 'KEYWORD':
        if (lower === 'offset') afterSignedModifier = true;
        expectOperand = lower === 'bool' || lower === 'group_left' || lower === 'group_right';
        return;
      case 'AT':
        afterSignedModifier = true;
        return;
      default:
        expectOperand = false;
    }
  };

  for (;;) {
    // Past the nesting limit nothing else matters: that is the error to report.
    if (tooDeep !== null) return { tokens, error: null, tooDeep };
    if (braceOpen) {
      // Inside braces: label names, matching operators, strings and commas only.
      if (input.startsWith('#', pos)) {
        pos = skipComment(input, pos);
        continue;
      }
      if (pos >= input.length) return fail(pos, 'unexpected end of input inside braces');
      const c = input[pos]!;
      const start = pos;
      if (isSpace(c)) {
        pos++;
        continue;
      }
      if (isAlpha(c)) {
        pos++;
        while (pos < input.length && isAlphaNumeric(input[pos]!)) pos++;
        emit('IDENTIFIER', start, pos);
        continue;
      }
      switch (c) {
        case ',':
          emit('COMMA', start, ++pos);
          continue;
        case '"':
        case "'":
        case '`': {
          const r = scanString(input, pos);
          if ('reason' in r) return fail(start, r.reason);
          pos = r.end;
          emit('STRING', start, pos);
          continue;
        }
        case '=':
          pos += input[pos + 1] === '~' ? 2 : 1;
          emit(pos - start === 2 ? 'OPERATOR' : 'EQL', start, pos);
          continue;
        case '!': {
          const n = input[pos + 1];
          if (n === '~' || n === '=') {
            pos += 2;
            emit('OPERATOR', start, pos);
            continue;
          }
          return fail(start, `unexpected character after '!' inside braces: ${quoteRune(n ?? '')}`);
        }
        case '{':
          return fail(start, `unexpected left brace ${quoteRune(c)}`);
        case '}':
          emit('RIGHT_BRACE', start, ++pos);
          braceOpen = false;
          continue;
        default:
          return fail(start, `unexpected character inside braces: ${quoteRune(charAt(input, pos))}`);
      }
    }

    if (input.startsWith('#', pos)) {
      pos = skipComment(input, pos);
      continue;
    }
    const start = pos;
    if (pos >= input.length) {
      if (parenDepth !== 0) return fail(pos, 'unclosed left parenthesis');
      if (bracketOpen) return fail(pos, 'unclosed left bracket');
      tokens.push({ type: 'EOF', start: pos, end: pos, text: '', inBraces: false });
      return { tokens, error: null, tooDeep };
    }
    const c = input[pos]!;
    if (isSpace(c)) {
      pos++;
      continue;
    }
    switch (c) {
      case ',':
        emit('COMMA', start, ++pos);
        continue;
      case '*':
      case '/':
      case '%':
      case '+':
      case '-':
      case '^':
        emit('OPERATOR', start, ++pos);
        continue;
      case '=': {
        const n = input[pos + 1];
        if (n === '=') {
          pos += 2;
          emit('OPERATOR', start, pos);
        } else if (n === '~') {
          return fail(start, `unexpected character after '=': ${quoteRune(n)}`);
        } else {
          emit('EQL', start, ++pos);
        }
        continue;
      }
      case '!': {
        const n = input[pos + 1];
        if (n !== '=') return fail(start, `unexpected character after '!': ${quoteRune(n ?? '')}`);
        pos += 2;
        emit('OPERATOR', start, pos);
        continue;
      }
      case '<':
      case '>':
        pos += input[pos + 1] === '=' ? 2 : 1;
        emit('OPERATOR', start, pos);
        continue;
      case '"':
      case "'":
      case '`': {
        const r = scanString(input, pos);
        if ('reason' in r) return fail(start, r.reason);
        pos = r.end;
        emit('STRING', start, pos);
        continue;
      }
      case '(':
        parenDepth++;
        emit('LEFT_PAREN', start, ++pos);
        continue;
      case ')':
        parenDepth--;
        // Prometheus reports this one just after the parenthesis.
        if (parenDepth < 0) return fail(start, "unexpected right parenthesis ')'", start + 1);
        emit('RIGHT_PAREN', start, ++pos);
        continue;
      case '{':
        braceOpen = true;
        pos++;
        tokens.push({ type: 'LEFT_BRACE', start, end: pos, text: '{', inBraces: true });
        track('LEFT_BRACE', '{', start);
        continue;
      case '[': {
        if (bracketOpen) return fail(start, "unexpected left bracket '['");
        gotColon = false;
        emit('LEFT_BRACKET', start, ++pos);
        while (pos < input.length && isSpace(input[pos]!)) pos++;
        bracketOpen = true;
        // A duration must follow directly.
        const dStart = pos;
        const num = scanNumber(input, pos);
        if (num.ok) return fail(dStart, 'missing unit character in duration');
        const dur = scanDurationRest(input, num.end);
        if (!dur.ok) return fail(dStart, `bad duration syntax: ${goQuote(input.slice(dStart, dur.end))}`);
        pos = dur.end;
        emit('DURATION', dStart, pos);
        continue;
      }
      case ']':
        if (!bracketOpen) return fail(start, "unexpected right bracket ']'");
        bracketOpen = false;
        emit('RIGHT_BRACKET', start, ++pos);
        continue;
      case '@':
        emit('AT', start, ++pos);
        continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(input[pos + 1] ?? ''))) {
      const num = scanNumber(input, pos);
      if (num.ok) {
        pos = num.end;
        emit('NUMBER', start, pos);
        continue;
      }
      const dur = scanDurationRest(input, num.end);
      if (dur.ok) {
        pos = dur.end;
        emit('DURATION', start, pos);
        continue;
      }
      return fail(start, `bad number or duration syntax: ${goQuote(input.slice(start, dur.end))}`);
    }
    if (isAlpha(c) || c === ':') {
      if (bracketOpen) {
        // Prometheus's lexer takes any one letter inside brackets for the colon of a subquery.
        if (gotColon) return fail(start, `unexpected colon ${quoteRune(c)}`);
        gotColon = true;
        emit('COLON', start, ++pos);
        continue;
      }
      pos++;
      while (pos < input.length && (isAlphaNumeric(input[pos]!) || input[pos] === ':')) pos++;
      const word = input.slice(start, pos);
      const type = WORD_TYPES.get(word.toLowerCase());
      emit(type ?? (word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER'), start, pos);
      continue;
    }
    return fail(start, `unexpected character: ${quoteRune(charAt(input, pos))}`);
  }
}

function charAt(input: string, pos: number): string {
  return String.fromCodePoint(input.codePointAt(pos) ?? 0xfffd);
}

function skipComment(input: string, pos: number): number {
  let p = pos + 1;
  while (p < input.length && input[p] !== '\n' && input[p] !== '\r') p++;
  return p;
}

/** Prometheus's scanNumber: true when the text at pos is a complete number. */
function scanNumber(input: string, pos: number): { ok: boolean; end: number } {
  let p = pos;
  let digit = isDigit;
  if (input[p] === '0' && (input[p + 1] === 'x' || input[p + 1] === 'X')) {
    p += 2;
    digit = isHexDigit;
  }
  while (p < input.length && digit(input[p]!)) p++;
  if (input[p] === '.') {
    p++;
    while (p < input.length && digit(input[p]!)) p++;
  }
  if (input[p] === 'e' || input[p] === 'E') {
    p++;
    if (input[p] === '+' || input[p] === '-') p++;
    while (p < input.length && isDigit(input[p]!)) p++;
  }
  return { ok: !isAlphaNumeric(input[p] ?? ''), end: p };
}

/** The unit part of a duration after its first number: `m`, `ms`, `h30m`, ... */
function scanDurationRest(input: string, pos: number): { ok: boolean; end: number } {
  let p = pos;
  if (!'smhdwy'.includes(input[p] ?? 'x') || p >= input.length) return { ok: false, end: p };
  p++;
  if (input[p] === 's') p++;
  while (isDigit(input[p] ?? '')) {
    while (isDigit(input[p] ?? '')) p++;
    if (!'smhdw'.includes(input[p] ?? 'x') || p >= input.length) return { ok: false, end: p };
    p++;
    if (input[p] === 's') p++;
  }
  const ok = !isAlphaNumeric(input[p] ?? '');
  return { ok, end: ok ? p : p + 1 };
}

/** Checks a quoted string the way Prometheus's lexer does; returns its end or the problem. */
function scanString(input: string, pos: number): { end: number } | { reason: string } {
  const quote = input[pos]!;
  let p = pos + 1;
  if (quote === '`') {
    const close = input.indexOf('`', p);
    if (close === -1) return { reason: 'unterminated raw string' };
    return { end: close + 1 };
  }
  for (;;) {
    if (p >= input.length) return { reason: 'unterminated quoted string' };
    const c = input[p]!;
    p++;
    if (c === '\n') return { reason: 'unterminated quoted string' };
    if (c === quote) return { end: p };
    if (c !== '\\') continue;
    const r = scanEscape(input, p, quote);
    if (typeof r === 'string') return { reason: r };
    p = r;
  }
}

function scanEscape(input: string, pos: number, quote: string): number | string {
  if (pos >= input.length) return 'escape sequence not terminated';
  const c = charAt(input, pos);
  let digits: number;
  let base: number;
  let max: number;
  let p = pos + c.length;
  if ('abfnrtv\\'.includes(c) || c === quote) return p;
  if (c >= '0' && c <= '7') {
    digits = 3;
    base = 8;
    max = 255;
    p = pos;
  } else if (c === 'x') {
    digits = 2;
    base = 16;
    max = 255;
  } else if (c === 'u') {
    digits = 4;
    base = 16;
    max = 0x10ffff;
  } else if (c === 'U') {
    digits = 8;
    base = 16;
    max = 0x10ffff;
  } else {
    return `unknown escape sequence ${unicodeRune(c)}`;
  }
  let value = 0;
  for (let i = 0; i < digits; i++) {
    if (p >= input.length) return 'escape sequence not terminated';
    const d = charAt(input, p);
    const v = isHexDigit(d) ? parseInt(d, 16) : 16;
    if (v >= base) return `illegal character ${unicodeRune(d)} in escape sequence`;
    value = value * base + v;
    p += d.length;
  }
  if (value > max || (value >= 0xd800 && value < 0xe000)) {
    return 'escape sequence is an invalid Unicode code point';
  }
  return p;
}

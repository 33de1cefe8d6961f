import { MetricstorError } from '../../errors.js';
import type { PosRange } from './ast.js';

/**
 * A query that can never be evaluated as written. The message reads like Prometheus's:
 * `<line>:<column>: parse error: <reason>`, where the column counts UTF-8 bytes from the last
 * newline, both 1-based.
 */
export class ParseError extends MetricstorError {
  constructor(
    readonly query: string,
    readonly pos: PosRange,
    readonly reason: string,
  ) {
    super('bad_data', `${lineColumn(query, pos.start)}: parse error: ${reason}`);
    this.name = 'ParseError';
  }
}

export function isParseError(err: unknown): err is ParseError {
  return err instanceof ParseError;
}

const encoder = new TextEncoder();

/** `line:column` of a character offset, 1-based, with the column in UTF-8 bytes. */
export function lineColumn(query: string, offset: number): string {
  if (offset < 0 || offset > query.length) return 'invalid position';
  const before = query.slice(0, offset);
  const lastBreak = before.lastIndexOf('\n');
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  const column = encoder.encode(before.slice(lastBreak + 1)).length + 1;
  return `${line}:${column}`;
}

/** Thrown by grammar actions and builders; index.ts turns it into a ParseError for the query. */
export class SyntaxProblem extends Error {
  constructor(
    readonly pos: PosRange,
    readonly reason: string,
    /**
     * Prometheus's parser finds most problems as soon as it has read the construct's last token.
     * A few only once it has seen the token after it, because the construct could have gone on
     * (a trailing comma, an aggregation that may still get a by/without clause).
     */
    readonly needsNextToken: boolean,
  ) {
    super(reason);
    this.name = 'SyntaxProblem';
  }
}

export function problem(pos: PosRange, reason: string): SyntaxProblem {
  return new SyntaxProblem(pos, reason, false);
}

export function problemAfterNextToken(pos: PosRange, reason: string): SyntaxProblem {
  return new SyntaxProblem(pos, reason, true);
}

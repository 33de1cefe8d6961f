/**
 * Memoised parsing for the query API: dashboards ask the same query text again and again, and
 * parsing and type-checking it is a fixed cost of every request. The AST is never mutated after
 * parsing (its types are readonly throughout), so one tree can serve every request of that text.
 * Only successful parses are kept; a query that fails is parsed again and fails again.
 */
import { LRUCache } from 'lru-cache';
import type { Expr } from './ast.js';

export interface ParseCacheOptions {
  /** Distinct query texts kept. */
  readonly maxEntries: number;
  /** Longer query texts are parsed every time and not kept, which bounds the memory held. */
  readonly maxQueryChars: number;
}

export const DEFAULT_PARSE_CACHE: ParseCacheOptions = { maxEntries: 512, maxQueryChars: 4096 };

/** `parse` with the last maxEntries successful answers remembered by query text. */
export function cachedParser(parse: (query: string) => Expr, options: ParseCacheOptions = DEFAULT_PARSE_CACHE): (query: string) => Expr {
  const cache = new LRUCache<string, Expr>({ max: options.maxEntries });
  return (query) => {
    if (query.length > options.maxQueryChars) return parse(query);
    let expr = cache.get(query);
    if (expr === undefined) {
      expr = parse(query);
      cache.set(query, expr);
    }
    return expr;
  };
}

/**
 * What to suggest at the cursor of a PromQL expression: metric names (and functions) for a bare
 * identifier, label names inside braces or grouping clauses, label values after a matcher's quote.
 */

export type CompletionContext =
  | { readonly kind: 'metric'; readonly prefix: string; readonly from: number }
  | { readonly kind: 'label-name'; readonly prefix: string; readonly from: number; readonly metric?: string }
  | { readonly kind: 'label-value'; readonly prefix: string; readonly from: number; readonly label: string; readonly metric?: string };

const IDENT_TAIL = /[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_TAIL = /[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The completion context at `cursor`, or undefined where nothing is suggested (numbers, strings, operators). */
export function completionContext(text: string, cursor: number): CompletionContext | undefined {
  const before = text.slice(0, cursor);
  const brace = openBrace(before);
  if (brace !== undefined) {
    const inside = before.slice(brace + 1);
    const metric = IDENT_TAIL.exec(before.slice(0, brace))?.[0];
    const withMetric = metric !== undefined ? { metric } : {};
    // A label value being typed: name op "partial
    const value = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)$/.exec(inside);
    if (value) return { kind: 'label-value', label: value[1]!, prefix: value[3]!, from: cursor - value[3]!.length, ...withMetric };
    if (insideString(inside)) return undefined;
    const name = /(?:^|[{,\s])([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(inside);
    if (name) {
      const prefix = name[1] ?? '';
      return { kind: 'label-name', prefix, from: cursor - prefix.length, ...withMetric };
    }
    return undefined;
  }
  if (insideString(before)) return undefined;
  if (/\b(by|without|on|ignoring|group_left|group_right)\s*\(\s*([a-zA-Z_][a-zA-Z0-9_]*\s*,\s*)*[a-zA-Z0-9_]*$/.test(before)) {
    const prefix = LABEL_TAIL.exec(before)?.[0] ?? '';
    return { kind: 'label-name', prefix, from: cursor - prefix.length };
  }
  const ident = IDENT_TAIL.exec(before);
  if (!ident) return undefined;
  const from = cursor - ident[0].length;
  // Not inside a number (1e5, 0x1f) or a duration ([5m]).
  if (from > 0 && /[0-9.]/.test(before[from - 1]!)) return undefined;
  if (/\[[^\]]*$/.test(before)) return undefined;
  return { kind: 'metric', prefix: ident[0], from };
}

/** Index of the `{` the cursor is inside, if any (quoted text skipped). */
function openBrace(text: string): number | undefined {
  let open: number | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') open = i;
    else if (c === '}') open = undefined;
  }
  return open;
}

function insideString(text: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    }
  }
  return quote !== undefined;
}

/** PromQL functions and aggregations offered next to metric names. */
export const PROMQL_FUNCTIONS: readonly string[] = [
  'abs', 'absent', 'absent_over_time', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max',
  'clamp_min', 'count', 'count_over_time', 'count_values', 'day_of_month', 'day_of_week', 'delta', 'deriv', 'exp',
  'floor', 'group', 'histogram_quantile', 'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join',
  'label_replace', 'last_over_time', 'ln', 'log2', 'log10', 'max', 'max_over_time', 'min', 'min_over_time', 'minute',
  'month', 'predict_linear', 'present_over_time', 'quantile', 'quantile_over_time', 'rate', 'resets', 'round',
  'scalar', 'sort', 'sort_desc', 'sqrt', 'stddev', 'stddev_over_time', 'stdvar', 'stdvar_over_time', 'sum',
  'sum_over_time', 'time', 'timestamp', 'topk', 'vector', 'year',
];

/** Candidates starting with prefix (case-insensitive), then ones containing it; at most `limit`. */
export function rankSuggestions(candidates: readonly string[], prefix: string, limit: number): string[] {
  const p = prefix.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const c of candidates) {
    const lc = c.toLowerCase();
    if (lc === p) continue;
    if (lc.startsWith(p)) starts.push(c);
    else if (p !== '' && lc.includes(p)) contains.push(c);
  }
  return [...starts.sort(), ...contains.sort()].slice(0, limit);
}

/** Go's quoting (`%q`), which Prometheus uses for strings, runes and names in its output. */

/** Go's `%q` of a single character. */
export function quoteRune(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '\\') return "'\\\\'";
  return `'${escapeRune(c, "'")}'`;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function isPrintable(c: string): boolean {
  return PRINTABLE.test(c);
}

/** One character as it appears inside a Go-quoted literal with the given quote. */
export function escapeRune(c: string, quote: string): string {
  switch (c) {
    case '\x07':
      return '\\a';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\v':
      return '\\v';
    case '\\':
      return '\\\\';
  }
  if (c === quote) return `\\${c}`;
  if (isPrintable(c)) return c;
  const cp = c.codePointAt(0) ?? 0xfffd;
  if (cp >= 0xd800 && cp < 0xe000) return '\\ufffd';
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** Go's `%q` of a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) out += escapeRune(c, '"');
  return `${out}"`;
}

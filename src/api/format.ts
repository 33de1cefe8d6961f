/**
 * Number and string encodings that match Prometheus's JSON byte for byte: sample values are Go's
 * strconv.FormatFloat output, sample timestamps are seconds with a zero-padded millisecond part,
 * and strings are escaped the way Go's encoding/json escapes them (HTML-safe).
 */

/** Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never an exponent. */
export function formatFloatF(v: number): string {
  const special = formatSpecial(v);
  if (special !== undefined) return special;
  const text = String(v);
  const e = text.indexOf('e');
  if (e < 0) return text;
  return expandExponent(text.slice(0, e), Number(text.slice(e + 1)));
}

/**
 * How Prometheus writes a sample value (jsonutil.MarshalFloat): exponent form when
 * 0 < |v| < 1e-6 or |v| >= 1e21 (two-digit exponents at least, as Go pads them), else 'f'.
 */
export function formatSampleValue(v: number): string {
  const special = formatSpecial(v);
  if (special !== undefined) return special;
  const text = String(v);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const exponent = text.slice(e + 2);
  return `${text.slice(0, e + 2)}${exponent.length < 2 ? `0${exponent}` : exponent}`;
}

function formatSpecial(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return undefined;
}

/** "1.25" with exponent 22 → "12500000000000000000000"; "-1.5" with -7 → "-0.00000015". */
function expandExponent(mantissa: string, exponent: number): string {
  const negative = mantissa.startsWith('-');
  const unsigned = negative ? mantissa.slice(1) : mantissa;
  const dot = unsigned.indexOf('.');
  const digits = dot < 0 ? unsigned : unsigned.slice(0, dot) + unsigned.slice(dot + 1);
  const pointAt = (dot < 0 ? unsigned.length : dot) + exponent;
  let out: string;
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${out}` : out;
}

/** A sample timestamp (ms) as Prometheus writes it: 1435781451.050, -0.500, 1435781451. */
export function formatSampleTimestamp(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const seconds = Math.trunc(abs / 1000);
  const fraction = abs - seconds * 1000;
  if (fraction === 0) return `${sign}${seconds}`;
  return `${sign}${seconds}.${String(fraction).padStart(3, '0')}`;
}

/**
 * A scalar or string result's timestamp: Go's JSON encoding of float64(ms)/1000, which uses the
 * same shortest digits and exponent thresholds as JavaScript's Number#toString.
 */
export function formatResultTimestamp(ms: number): string {
  return String(ms / 1000);
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const HAS_HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal escaped as Go's encoding/json escapes it. */
export function jsonString(s: string): string {
  const quoted = JSON.stringify(s);
  return HAS_HTML_UNSAFE.test(quoted) ? quoted.replace(HTML_UNSAFE, (c) => HTML_ESCAPES[c]!) : quoted;
}

/** JSON.stringify with Go's HTML-safe escaping (the characters only occur inside strings). */
export function jsonEncode(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(HTML_UNSAFE, (c) => HTML_ESCAPES[c]!);
}

/**
 * Orders strings as Go does (by UTF-8 bytes, which is code point order). JavaScript's default
 * order compares UTF-16 units and puts astral characters before U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000..U+FFFF so that UTF-16 units compare in code point order. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Values of number, duration and string literals, and their canonical printed forms. */
import { goQuote } from './quote.js';

const MS_PER: Readonly<Record<string, number>> = {
  y: 365 * 24 * 3600 * 1000,
  w: 7 * 24 * 3600 * 1000,
  d: 24 * 3600 * 1000,
  h: 3600 * 1000,
  m: 60 * 1000,
  s: 1000,
  ms: 1,
};

/** Units in the only order Prometheus accepts, each at most once. */
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/** Largest duration Go's time.Duration can hold, in ms. */
const MAX_DURATION_MS = 9223372036854;

/**
 * Parses a duration as Prometheus's model.ParseDuration does (`1h30m`, `5m`, `500ms`, `0`).
 * Returns milliseconds, or a message in Prometheus's words.
 */
export function durationMs(text: string): number | string {
  if (text === '0') return 0;
  if (text === '') return 'empty duration string';
  const m = DURATION_RE.exec(text);
  if (!m) return `not a valid duration string: ${goQuote(text)}`;
  let ms = 0;
  for (let i = 0; i < UNITS.length; i++) {
    const digits = m[i + 1];
    if (digits === undefined) continue;
    const mult = MS_PER[UNITS[i]!]!;
    const n = Number(digits);
    if (n > MAX_DURATION_MS / mult) return 'duration out of range';
    ms += n * mult;
    if (ms > MAX_DURATION_MS) return 'duration out of range';
  }
  return ms;
}

/** Prints ms as model.Duration does: `1h30m`, `90d` rather than `12w6d`, `0s` for zero. */
export function formatDuration(msIn: number): string {
  let ms = msIn;
  if (ms === 0) return '0s';
  let out = '';
  const part = (unit: string, mult: number, exact: boolean): void => {
    if (exact && ms % mult !== 0) return;
    const v = Math.floor(ms / mult);
    if (v > 0) {
      out += `${v}${unit}`;
      ms -= v * mult;
    }
  };
  part('y', MS_PER.y!, true);
  part('w', MS_PER.w!, true);
  part('d', MS_PER.d!, false);
  part('h', MS_PER.h!, false);
  part('m', MS_PER.m!, false);
  part('s', MS_PER.s!, false);
  part('ms', 1, false);
  return out;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * The value of a number token the way Prometheus reads it: first as a Go integer literal
 * (so `0x1f` is hex and `010` is octal), otherwise as a float. Returns a message on failure.
 */
export function numberValue(text: string): number | string {
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const asInt = goIntLiteral(text);
  if (asInt !== undefined) return Number(asInt);
  if (/^0[xX]/.test(text)) return `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`;
  const v = Number(text);
  if (Number.isNaN(v) || text.endsWith('e') || text.endsWith('E') || /[eE][+-]$/.test(text)) {
    return `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`;
  }
  if (!Number.isFinite(v)) {
    return `error parsing number: strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`;
  }
  return v;
}

function goIntLiteral(text: string): bigint | undefined {
  let n: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = BigInt(text);
  else if (/^0[0-7]+$/.test(text)) n = BigInt(`0o${text.slice(1)}`);
  else if (/^(?:0|[1-9][0-9]*)$/.test(text)) n = BigInt(text);
  else return undefined;
  return n > INT64_MAX ? undefined : n;
}

/** Prints a float as Go's `%v` (shortest `%g`): `1e+06`, `0.0001`, `1e-05`, `+Inf`, `NaN`. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(v).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const expAbs = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${expAbs}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}${fracPart ? `.${fracPart}` : ''}`;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * The value of a string token (quotes included), decoding Go escapes. The lexer has already
 * rejected malformed escapes. `\x` and octal escapes are bytes, as in Go.
 */
export function stringValue(token: string): string {
  const quote = token[0];
  const body = token.slice(1, -1);
  if (quote === '`' || !body.includes('\\')) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of utf8.encode(ch)) bytes.push(b);
      i += ch.length;
      continue;
    }
    const e = body[i + 1]!;
    i += 2;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      continue;
    }
    if (e === quote) {
      bytes.push(e.charCodeAt(0));
      continue;
    }
    if (e >= '0' && e <= '7') {
      bytes.push(parseInt(body.slice(i - 1, i + 2), 8));
      i += 2;
      continue;
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const value = parseInt(body.slice(i, i + width), 16);
    i += width;
    if (e === 'x') bytes.push(value);
    else for (const b of utf8.encode(String.fromCodePoint(value))) bytes.push(b);
  }
  return utf8Decoder.decode(new Uint8Array(bytes));
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  '\\': 92,
};

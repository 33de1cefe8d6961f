/** Float helpers that reproduce Go's math and strconv where JavaScript differs. */

/** A Kahan–Neumaier compensated sum (Prometheus's kahanSumInc), updated in place. */
export class KahanSum {
  sum = 0;
  c = 0;

  add(inc: number): void {
    const t = this.sum + inc;
    if (Math.abs(this.sum) >= Math.abs(inc)) this.c += this.sum - t + inc;
    else this.c += inc - t + this.sum;
    this.sum = t;
  }

  /** The compensated value. */
  get value(): number {
    return this.sum + this.c;
  }
}

/** Go's math.Pow: unlike Math.pow, 1^y = 1 and (-1)^±Inf = 1 even when y is NaN/Inf. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/** Go's conversion float64 → int64 for the values where it is well defined. */
export function convertibleToInt64(v: number): boolean {
  return v <= 9223372036854775807 && v >= -9223372036854775808;
}

/** strconv.FormatFloat(v, 'f', -1, 64): the shortest round-trip digits, never an exponent. */
export function formatFloatPlain(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const intLen = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (intLen <= 0) out = `0.${'0'.repeat(-intLen)}${digits}`;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  return negative ? `-${out}` : out;
}

const GO_DECIMAL_FLOAT = /^[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const GO_SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** strconv.ParseFloat(s, 64) for decimal input and the special words; null when invalid. */
export function parseGoFloat(s: string): number | null {
  const special = GO_SPECIAL_FLOAT.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return special[1] === '' ? NaN : null;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!GO_DECIMAL_FLOAT.test(s) || s.includes('_')) return null;
  return Number(s);
}

/**
 * The φ-quantile of values (Prometheus's quantile()): NaN when empty or φ is NaN, ±Inf when φ is
 * out of [0, 1], otherwise linear interpolation between the closest ranks. Sorts `values`.
 */
export function quantileOf(q: number, values: Float64Array | number[]): number {
  const n = values.length;
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // Go's sort puts NaN first (vectorByValueHeap); a typed-array sort puts it last.
  const sorted = Float64Array.from(values).sort();
  let nanCount = 0;
  while (nanCount < n && Number.isNaN(sorted[n - 1 - nanCount]!)) nanCount++;
  const at = (i: number): number => (i < nanCount ? NaN : sorted[i - nanCount]!);
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return at(lower) * (1 - weight) + at(upper) * weight;
}

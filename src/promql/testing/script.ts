import type { Label, Labels } from '../../model/labels.js';
import { sortLabels } from '../../model/labels.js';
import { setStaleAt } from '../../model/value.js';

/**
 * Reads the PromQL test-script format of Prometheus 2.42 (`load`, `clear`, `eval instant`,
 * `eval_ordered`, `eval_fail`) and its series description notation.
 */

export interface LoadedSeries {
  readonly labels: Labels;
  readonly timestamps: number[];
  /** Float64Array so that staleness markers keep their bits. */
  readonly values: Float64Array;
}

export interface ExpectedSample {
  readonly labels: Labels;
  readonly value: number;
  readonly line: number;
}

export type Command =
  | { readonly kind: 'load'; readonly line: number; readonly series: LoadedSeries[] }
  | { readonly kind: 'clear'; readonly line: number }
  | {
      readonly kind: 'eval';
      readonly line: number;
      readonly mode: 'eval' | 'eval_ordered' | 'eval_fail';
      readonly timeMs: number;
      readonly expr: string;
      /** A scalar expectation, or null for an instant vector. */
      readonly scalar: number | null;
      readonly samples: ExpectedSample[];
    };

export class ScriptError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Prometheus's model.ParseDuration: `1h30m`, `5m`, `0`, in milliseconds. */
export function parseDurationMs(text: string): number {
  if (text === '0') return 0;
  const m = DURATION_RE.exec(text);
  if (m === null || text === '') throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let ms = 0;
  DURATION_UNITS_MS.forEach((unit, i) => {
    if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * unit;
  });
  return ms;
}

const NUMBER = String.raw`[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF]|[nN][aA][nN])`;
const UNSIGNED = String.raw`(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const SINGLE_RE = new RegExp(`^${NUMBER}$`);
const FINITE = String.raw`[+-]?${UNSIGNED}`;
// Repetition (`x`) is only allowed after a finite numeric literal: `NaNx3` is an error.
const REPEAT_RE = new RegExp(`^(${FINITE})x(\\d+)$`);
const RUN_RE = new RegExp(`^(${FINITE})([+-])(${UNSIGNED})x(\\d+)$`);

export function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  return Number(text);
}

export function isNumber(text: string): boolean {
  return SINGLE_RE.test(text);
}

/** One value slot: a number, a staleness marker, or a gap (null). */
type Slot = number | 'stale' | null;

/** Expands the value items of a series description into slots, one per step. */
export function expandValues(items: readonly string[]): Slot[] {
  const slots: Slot[] = [];
  for (const item of items) {
    if (item === '_') {
      slots.push(null);
      continue;
    }
    const gaps = /^_x(\d+)$/.exec(item);
    if (gaps) {
      for (let i = 0; i < Number(gaps[1]); i++) slots.push(null);
      continue;
    }
    if (item === 'stale') {
      slots.push('stale');
      continue;
    }
    if (SINGLE_RE.test(item)) {
      slots.push(parseNumber(item));
      continue;
    }
    const run = RUN_RE.exec(item);
    if (run) {
      let v = parseNumber(run[1]!);
      const d = Number(run[3]) * (run[2] === '-' ? -1 : 1);
      const n = Number(run[4]);
      for (let i = 0; i <= n; i++) {
        slots.push(v);
        v += d;
      }
      continue;
    }
    const repeat = REPEAT_RE.exec(item);
    if (repeat) {
      const v = parseNumber(repeat[1]!);
      for (let i = 0; i <= Number(repeat[2]); i++) slots.push(v);
      continue;
    }
    throw new Error(`invalid value ${JSON.stringify(item)}`);
  }
  return slots;
}

/** Splits `metric{a="b", c='d'} rest` into its labels and the rest of the line. */
export function parseSeriesHead(text: string): { labels: Labels; rest: string } {
  let i = 0;
  const labels: Label[] = [];
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
  if (name) {
    labels.push({ name: '__name__', value: name[0] });
    i = name[0].length;
  }
  if (text[i] === '{') {
    i++;
    for (;;) {
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] === '}') {
        i++;
        break;
      }
      const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
      if (!labelName) throw new Error(`invalid label at ${JSON.stringify(text.slice(i))}`);
      i += labelName[0].length;
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] !== '=') throw new Error(`expected "=" at ${JSON.stringify(text.slice(i))}`);
      i++;
      while (/\s/.test(text[i] ?? '')) i++;
      const [value, end] = readQuoted(text, i);
      i = end;
      labels.push({ name: labelName[0], value });
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] === ',') i++;
    }
  }
  if (!name && labels.length === 0 && !text.startsWith('{')) throw new Error(`invalid series ${JSON.stringify(text)}`);
  const unique = new Map<string, string>();
  for (const l of labels) unique.set(l.name, l.value);
  const out = sortLabels([...unique].filter(([, v]) => v !== '').map(([n, v]) => ({ name: n, value: v })));
  return { labels: out, rest: text.slice(i).trim() };
}

function readQuoted(text: string, start: number): [string, number] {
  const quote = text[start];
  if (quote !== '"' && quote !== "'" && quote !== '`') throw new Error(`expected a quoted string at ${start}`);
  let i = start + 1;
  let raw = '';
  while (i < text.length && text[i] !== quote) {
    if (text[i] === '\\' && quote !== '`') {
      raw += text[i]! + (text[i + 1] ?? '');
      i += 2;
      continue;
    }
    raw += text[i];
    i++;
  }
  if (i >= text.length) throw new Error('unterminated string');
  if (quote === '`') return [raw, i + 1];
  return [unescapeGo(raw), i + 1];
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'",
};

/** Go string-literal escapes: \n, \t, \\, \", \', \xHH, \uHHHH, \UHHHHHHHH, octal \NNN. */
function unescapeGo(raw: string): string {
  return raw.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, esc: string) => {
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) return simple;
    if (/^[xuU]/.test(esc)) return String.fromCodePoint(parseInt(esc.slice(1), 16));
    if (/^[0-7]{3}$/.test(esc)) return String.fromCodePoint(parseInt(esc, 8));
    throw new Error(`invalid escape \\${esc}`);
  });
}

function seriesFromSlots(labels: Labels, slots: readonly Slot[], stepMs: number): LoadedSeries {
  const timestamps: number[] = [];
  const kept: Slot[] = [];
  slots.forEach((s, i) => {
    if (s === null) return;
    timestamps.push(i * stepMs);
    kept.push(s);
  });
  const values = new Float64Array(kept.length);
  kept.forEach((s, i) => {
    if (s === 'stale') setStaleAt(values, i);
    else values[i] = s!;
  });
  return { labels, timestamps, values };
}

const EVAL_RE = /^(eval|eval_ordered|eval_fail)\s+instant\s+at\s+(\S+)\s+(.+)$/;

/** Parses a whole test script into commands. */
export function parseScript(text: string): Command[] {
  const lines = text.split('\n').map((l) => l.trim());
  const commands: Command[] = [];
  const isBlank = (i: number): boolean => i >= lines.length || lines[i] === '' || lines[i]!.startsWith('#');
  let i = 0;
  while (i < lines.length) {
    if (isBlank(i)) {
      i++;
      continue;
    }
    const lineNo = i + 1;
    const line = lines[i]!;
    try {
      if (line === 'clear') {
        commands.push({ kind: 'clear', line: lineNo });
        i++;
        continue;
      }
      const load = /^load\s+(\S+)$/.exec(line);
      if (load) {
        const stepMs = parseDurationMs(load[1]!);
        const byKey = new Map<string, LoadedSeries>();
        i++;
        while (!isBlank(i)) {
          const { labels, rest } = parseSeriesHead(lines[i]!);
          const slots = expandValues(rest === '' ? [] : rest.split(/\s+/));
          byKey.set(JSON.stringify(labels), seriesFromSlots(labels, slots, stepMs));
          i++;
        }
        commands.push({ kind: 'load', line: lineNo, series: [...byKey.values()] });
        continue;
      }
      const ev = EVAL_RE.exec(line);
      if (ev) {
        const timeMs = parseDurationMs(ev[2]!);
        let scalar: number | null = null;
        const samples: ExpectedSample[] = [];
        i++;
        while (!isBlank(i)) {
          const expectation = lines[i]!;
          if (isNumber(expectation)) {
            scalar = parseNumber(expectation);
            i++;
            break;
          }
          const { labels, rest } = parseSeriesHead(expectation);
          const slots = expandValues(rest.split(/\s+/));
          if (slots.length !== 1 || slots[0] === null) throw new Error(`expected exactly one value in ${expectation}`);
          const slot = slots[0]!;
          samples.push({ labels, value: slot === 'stale' ? NaN : slot, line: i + 1 });
          i++;
        }
        const mode = ev[1] as 'eval' | 'eval_ordered' | 'eval_fail';
        commands.push({ kind: 'eval', line: lineNo, mode, timeMs, expr: ev[3]!, scalar, samples });
        continue;
      }
      throw new Error(`unknown command ${JSON.stringify(line)}`);
    } catch (err) {
      if (err instanceof ScriptError) throw err;
      throw new ScriptError(lineNo, (err as Error).message);
    }
  }
  return commands;
}

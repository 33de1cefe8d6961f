import { badData } from '../../errors.js';
import { METRIC_NAME, type Label } from '../../model/labels.js';
import { isMetricType, type MetricType } from '../../model/metric-type.js';
import type { MetricMetadata } from '../../storage/types.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** One sample line: labels as written (metric name first), and its timestamp if the line had one. */
export interface ExpositionSample {
  readonly labels: Label[];
  readonly timestampMs: number | undefined;
  /** 1-based line number, for error messages further down. */
  readonly line: number;
}

export interface ParsedExposition {
  readonly samples: ExpositionSample[];
  /** values[i] belongs to samples[i]; a Float64Array so NaN bits are kept. */
  readonly values: Float64Array;
  readonly metadata: MetricMetadata[];
}

/** TYPE words of the text format 0.0.4; OpenMetrics uses our own type names (isMetricType). */
const TEXT_TYPES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'unknown'],
]);

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$|^nan$/i;
const INT_RE = /^[+-]?\d+$/;
const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;

/** The NaN Prometheus stores for a NaN read from text, so text can never forge a staleness marker. */
const NORMAL_NAN_HI = 0x7ff80000;
const NORMAL_NAN_LO = 0x00000001;

/**
 * Parses a whole Prometheus text (0.0.4) or OpenMetrics 1.0 exposition. Pure: the same text gives
 * the same result. A syntax error is bad_data whose message starts with `line N:`.
 *
 * As in Prometheus 2.42: text-format timestamps are integer milliseconds, OpenMetrics ones float
 * seconds (truncated to milliseconds); `_created` and `_total` samples are ordinary series;
 * metadata is keyed by the family name given in HELP/TYPE/UNIT; exemplars are checked and dropped.
 */
export function parseExposition(text: string, format: ExpositionFormat): ParsedExposition {
  return new ExpositionParser(text, format).parse();
}

class ExpositionParser {
  private readonly samples: ExpositionSample[] = [];
  private values = new Float64Array(256);
  private valueWords = new Uint32Array(this.values.buffer);
  private readonly metadata = new Map<string, { type: MetricType; help: string; unit: string }>();
  private lineNo = 0;
  private line = '';
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly format: ExpositionFormat,
  ) {}

  parse(): ParsedExposition {
    const om = this.format === 'openmetrics';
    const lines = this.text.split('\n');
    // A final newline leaves one empty string behind; it is not a line of its own.
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    let sawEof = false;
    for (let i = 0; i < lines.length; i++) {
      this.lineNo = i + 1;
      this.line = lines[i]!;
      this.pos = 0;
      if (sawEof) throw this.error('unexpected data after # EOF');
      if (om) {
        if (this.line === '# EOF') {
          sawEof = true;
          continue;
        }
        if (this.line === '') throw this.error('empty lines are not allowed in OpenMetrics');
      } else {
        if (this.line.endsWith('\r')) this.line = this.line.slice(0, -1);
        this.skipBlanks();
        if (this.pos === this.line.length) continue;
      }
      if (this.line[this.pos] === '#') this.comment();
      else this.sampleLine();
    }
    if (om && !sawEof) throw badData(`line ${lines.length}: data does not end with # EOF`);
    const metadata: MetricMetadata[] = [];
    for (const [metricFamilyName, m] of this.metadata) metadata.push({ metricFamilyName, ...m });
    return { samples: this.samples, values: this.values.subarray(0, this.samples.length), metadata };
  }

  private error(message: string): Error {
    return badData(`line ${this.lineNo}: ${message}`);
  }

  private skipBlanks(): void {
    while (this.pos < this.line.length && (this.line[this.pos] === ' ' || this.line[this.pos] === '\t')) this.pos++;
  }

  private comment(): void {
    const om = this.format === 'openmetrics';
    const m = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+/.exec(this.line.slice(this.pos));
    if (m === null || (!om && m[1] === 'UNIT')) {
      if (om) throw this.error(`invalid comment ${JSON.stringify(this.line)}; OpenMetrics allows only HELP, TYPE, UNIT and EOF`);
      return; // any other comment is ignored in the text format
    }
    if (om && !/^# (HELP|TYPE|UNIT) /.test(this.line)) throw this.error('expected a single space around the keyword');
    this.pos += m[0].length;
    const name = this.metricName();
    let rest = '';
    if (this.pos < this.line.length) {
      if (this.line[this.pos] !== ' ' && this.line[this.pos] !== '\t') throw this.error(`invalid metric name in ${m[1]}`);
      rest = this.line.slice(this.pos + 1);
    }
    const entry = this.metadata.get(name) ?? { type: 'unknown' as MetricType, help: '', unit: '' };
    if (m[1] === 'HELP') {
      entry.help = unescapeHelp(rest, om);
    } else if (m[1] === 'TYPE') {
      const word = om ? rest : rest.trim();
      const type = om ? (isMetricType(word) ? word : undefined) : TEXT_TYPES.get(word);
      if (type === undefined) throw this.error(`invalid metric type ${JSON.stringify(word)}`);
      entry.type = type;
    } else {
      if (rest !== '' && !name.endsWith('_' + rest)) throw this.error(`unit ${JSON.stringify(rest)} is not a suffix of metric ${JSON.stringify(name)}`);
      entry.unit = rest;
    }
    this.metadata.set(name, entry);
  }

  private metricName(): string {
    const start = this.pos;
    if (this.pos >= this.line.length || !NAME_START.test(this.line[this.pos]!)) throw this.error('expected a metric name');
    this.pos++;
    while (this.pos < this.line.length && NAME_CHAR.test(this.line[this.pos]!)) this.pos++;
    return this.line.slice(start, this.pos);
  }

  private sampleLine(): void {
    const om = this.format === 'openmetrics';
    const labels: Label[] = [{ name: METRIC_NAME, value: this.metricName() }];
    if (this.line[this.pos] === '{') {
      this.pos++;
      this.labelSet(labels);
    }
    const valueText = this.field('value');
    if (valueText === undefined) throw this.error('expected a value after the series');
    let timestampMs: number | undefined;
    const tsText = this.field('timestamp');
    if (tsText !== undefined && !(om && tsText === '#')) {
      timestampMs = om ? this.omTimestamp(tsText) : this.textTimestamp(tsText);
      const after = this.field('end of line');
      if (after !== undefined && !(om && after === '#')) throw this.error(`unexpected ${JSON.stringify(after)} after the timestamp`);
      if (after === '#') this.exemplar();
    } else if (tsText === '#') {
      this.exemplar();
    }
    this.pushValue(this.float(valueText, 'value'));
    this.samples.push({ labels, timestampMs, line: this.lineNo });
  }

  /** Reads the next whitespace-separated token, or undefined at the end of the line. */
  private field(what: string): string | undefined {
    const om = this.format === 'openmetrics';
    if (this.pos >= this.line.length) return undefined;
    const c = this.line[this.pos];
    if (c !== ' ' && c !== '\t') throw this.error(`expected whitespace before the ${what}`);
    if (om) {
      if (c !== ' ') throw this.error(`expected a single space before the ${what}`);
      this.pos++;
      if (this.pos >= this.line.length || this.line[this.pos] === ' ') throw this.error(`expected the ${what} after a single space`);
    } else {
      this.skipBlanks();
      if (this.pos >= this.line.length) return undefined;
    }
    const start = this.pos;
    while (this.pos < this.line.length && this.line[this.pos] !== ' ' && this.line[this.pos] !== '\t') this.pos++;
    return this.line.slice(start, this.pos);
  }

  private labelSet(into: Label[]): void {
    const om = this.format === 'openmetrics';
    for (;;) {
      if (!om) this.skipBlanks();
      if (this.line[this.pos] === '}') {
        this.pos++;
        return;
      }
      const start = this.pos;
      if (this.pos >= this.line.length || !LABEL_START.test(this.line[this.pos]!)) throw this.error('expected a label name or "}"');
      this.pos++;
      while (this.pos < this.line.length && LABEL_CHAR.test(this.line[this.pos]!)) this.pos++;
      const name = this.line.slice(start, this.pos);
      if (!om) this.skipBlanks();
      if (this.line[this.pos] !== '=') throw this.error(`expected "=" after label name ${JSON.stringify(name)}`);
      this.pos++;
      if (!om) this.skipBlanks();
      into.push({ name, value: this.quoted(name) });
      if (!om) this.skipBlanks();
      if (this.line[this.pos] === ',') {
        this.pos++;
      } else if (this.line[this.pos] !== '}') {
        throw this.error('expected "," or "}" after a label value');
      }
    }
  }

  private quoted(name: string): string {
    if (this.line[this.pos] !== '"') throw this.error(`expected a quoted value for label ${JSON.stringify(name)}`);
    this.pos++;
    let value = '';
    let chunkStart = this.pos;
    while (this.pos < this.line.length) {
      const c = this.line[this.pos]!;
      if (c === '"') {
        value += this.line.slice(chunkStart, this.pos);
        this.pos++;
        return value;
      }
      if (c === '\\') {
        value += this.line.slice(chunkStart, this.pos);
        const next = this.line[this.pos + 1];
        if (next === undefined) break;
        if (next === '\\' || next === '"') value += next;
        else if (next === 'n') value += '\n';
        else if (this.format === 'openmetrics') throw this.error(`invalid escape "\\${next}" in value of label ${JSON.stringify(name)}`);
        else value += '\\' + next;
        this.pos += 2;
        chunkStart = this.pos;
        continue;
      }
      this.pos++;
    }
    throw this.error(`unterminated value of label ${JSON.stringify(name)}`);
  }

  private float(text: string, what: string): number {
    if (!FLOAT_RE.test(text)) throw this.error(`invalid ${what} ${JSON.stringify(text)}`);
    const lower = text.toLowerCase();
    if (lower.endsWith('inf') || lower.endsWith('infinity')) return text.startsWith('-') ? -Infinity : Infinity;
    return Number(text);
  }

  private textTimestamp(text: string): number {
    if (!INT_RE.test(text)) throw this.error(`invalid timestamp ${JSON.stringify(text)}`);
    const ms = Number(text);
    if (!Number.isSafeInteger(ms)) throw this.error(`timestamp ${text} is out of range; milliseconds must be a safe integer`);
    return ms;
  }

  private omTimestamp(text: string): number {
    const seconds = this.float(text, 'timestamp');
    if (!Number.isFinite(seconds)) throw this.error(`invalid timestamp ${JSON.stringify(text)}`);
    const ms = Math.trunc(seconds * 1000);
    if (!Number.isSafeInteger(ms)) throw this.error(`timestamp ${text} is out of range; milliseconds must be a safe integer`);
    return ms;
  }

  /** ` # {labels} value [timestamp]` after a sample; checked, then dropped. */
  private exemplar(): void {
    if (this.line[this.pos] !== ' ' || this.line[this.pos + 1] !== '{') throw this.error('expected an exemplar label set after "#"');
    this.pos += 2;
    this.labelSet([]);
    const value = this.field('exemplar value');
    if (value === undefined) throw this.error('expected an exemplar value');
    this.float(value, 'exemplar value');
    const ts = this.field('exemplar timestamp');
    if (ts !== undefined) this.omTimestamp(ts);
    if (this.pos < this.line.length) throw this.error('unexpected data after the exemplar');
  }

  private pushValue(v: number): void {
    const i = this.samples.length;
    if (i === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      new Uint32Array(grown.buffer).set(this.valueWords);
      this.values = grown;
      this.valueWords = new Uint32Array(grown.buffer);
    }
    if (Number.isNaN(v)) {
      const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
      this.valueWords[2 * i + (little ? 1 : 0)] = NORMAL_NAN_HI;
      this.valueWords[2 * i + (little ? 0 : 1)] = NORMAL_NAN_LO;
    } else {
      this.values[i] = v;
    }
  }
}

/** HELP text escapes: `\\` and `\n` (OpenMetrics also `\"`); other sequences are kept as written. */
function unescapeHelp(text: string, om: boolean): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, (all, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && om) return '"';
    return all;
  });
}

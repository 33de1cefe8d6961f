import type { LogLevel } from '../config/config.js';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, unknown>>;

/** Structured logs: one JSON object a line with ts, level, msg and the event's fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; process.stdout by default. */
  readonly write?: (line: string) => void;
  readonly nowMs?: () => number;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const threshold = RANK[options.level];
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const nowMs = options.nowMs ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields: LogFields | undefined): void => {
    if (RANK[level] < threshold) return;
    const line = { ts: new Date(nowMs()).toISOString(), level, msg, ...base, ...plain(fields) };
    write(`${JSON.stringify(line, jsonSafe)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    with: (fields) => createLogger(options, { ...base, ...plain(fields) }),
  };
}

/** A logger that drops everything (tests, library use). */
export const NOOP_LOGGER: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  with: () => NOOP_LOGGER,
};

/** Errors become their message (and type, when they have one); the reserved keys cannot be overwritten. */
function plain(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (k === 'ts' || k === 'level' || k === 'msg') continue;
    out[k] = v instanceof Error ? { message: v.message, ...('type' in v ? { type: v.type } : {}) } : v;
  }
  return out;
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

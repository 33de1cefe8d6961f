import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../errors.js';
import type { Labels } from '../../model/labels.js';
import { formatLabels } from '../../model/labels.js';
import type { Expr } from '../parser/ast.js';
import { PromqlEngine } from '../engine/engine.js';
import { AT_MODIFIER_UNSAFE_FUNCTIONS } from '../engine/functions/index.js';
import type { Queryable } from '../../storage/types.js';
import type { QueryResult } from '../types.js';
import { MemoryQueryable } from './memory-queryable.js';
import type { Command, ExpectedSample, LoadedSeries } from './script.js';
import { parseScript } from './script.js';

export interface StatementResult {
  readonly file: string;
  readonly line: number;
  readonly expr: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  readonly message?: string;
}

export interface RunnerOptions {
  readonly parse: (query: string) => Expr;
  /**
   * Also run each passing statement as a range query from T-1m to T+1m with a 1m step and
   * check the middle step, as the upstream runner does.
   */
  readonly rangeCheck?: boolean;
  /**
   * Also pin every selector to the evaluation time with @ and evaluate at other times
   * (-10T, 0, T/5, T, 10T), as the upstream runner does.
   */
  readonly atModifierCheck?: boolean;
  /** Overrides the engine's sample limit (the upstream runner uses 10,000). */
  readonly maxSamples?: number;
  /** Where loaded series live; default a MemoryQueryable. `clear` asks for a fresh one. */
  readonly openStorage?: () => Promise<TestStorage>;
}

/** A store the runner loads series into and queries through. */
export interface TestStorage extends Queryable {
  load(series: readonly LoadedSeries[]): Promise<void>;
  close(): Promise<void>;
}

async function openMemoryStorage(): Promise<TestStorage> {
  const memory = new MemoryQueryable();
  return {
    select: (params) => memory.select(params),
    load: async (series) => {
      for (const s of series) memory.add(s.labels, s.timestamps, s.values);
    },
    close: async () => {},
  };
}

/** Statements this engine cannot run by design, with the reason. */
const SKIPS: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  { pattern: /\bhistogram_(?:count|sum|fraction)\s*\(/, reason: 'needs native histograms' },
];

const SMALLEST_NORMAL = 2.2250738585072014e-308;

/** The float comparison of the Prometheus 2.42 test runner (relative epsilon 1e-6). */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || diff < SMALLEST_NORMAL) return diff < 1e-6 * SMALLEST_NORMAL;
  return diff / (Math.abs(a) + Math.abs(b)) < 1e-6;
}

function describeLabels(labels: Labels): string {
  return labels.length === 0 ? '{}' : formatLabels(labels);
}

function describeExpected(cmd: Extract<Command, { kind: 'eval' }>): string {
  if (cmd.scalar !== null) return `scalar ${cmd.scalar}`;
  if (cmd.samples.length === 0) return 'empty vector';
  return cmd.samples.map((s) => `${describeLabels(s.labels)} ${s.value}`).join('; ');
}

function describeResult(result: QueryResult): string {
  switch (result.resultType) {
    case 'scalar':
      return `scalar ${result.v}`;
    case 'string':
      return `string ${JSON.stringify(result.value)}`;
    case 'vector':
      if (result.samples.length === 0) return 'empty vector';
      return result.samples.map((s) => `${describeLabels(s.labels)} ${s.v}`).join('; ');
    case 'matrix':
      return `matrix of ${result.series.length} series`;
  }
}

function labelsId(labels: Labels): string {
  return JSON.stringify(labels.map((l) => [l.name, l.value]));
}

/** Compares a vector with the expectations; returns a problem description or null. */
function compareVector(
  got: readonly { labels: Labels; v: number }[],
  expected: readonly ExpectedSample[],
  ordered: boolean,
): string | null {
  if (got.length !== expected.length) return `expected ${expected.length} samples, got ${got.length}`;
  const byLabels = new Map<string, { index: number; sample: ExpectedSample }>();
  expected.forEach((sample, index) => byLabels.set(labelsId(sample.labels), { index, sample }));
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const e = byLabels.get(labelsId(g.labels));
    if (e === undefined) return `unexpected series ${describeLabels(g.labels)}`;
    if (ordered && e.index !== i) return `${describeLabels(g.labels)} at position ${i}, expected at ${e.index}`;
    if (!almostEqual(e.sample.value, g.v)) {
      return `${describeLabels(g.labels)}: expected ${e.sample.value}, got ${g.v}`;
    }
  }
  return null;
}

function checkResult(cmd: Extract<Command, { kind: 'eval' }>, result: QueryResult): string | null {
  if (cmd.scalar !== null) {
    if (result.resultType !== 'scalar') return `expected a scalar, got ${result.resultType}`;
    return almostEqual(cmd.scalar, result.v) ? null : `expected ${cmd.scalar}, got ${result.v}`;
  }
  if (result.resultType !== 'vector') return `expected an instant vector, got ${result.resultType}`;
  return compareVector(result.samples, cmd.samples, cmd.mode === 'eval_ordered');
}

/** The value at time T of each series of a range result. */
function rangeResultAt(result: QueryResult, timeMs: number): QueryResult {
  if (result.resultType !== 'matrix') return result;
  const samples: { labels: Labels; t: number; v: number }[] = [];
  for (const s of result.series) {
    for (let i = 0; i < s.timestamps.length; i++) {
      if (s.timestamps[i] === timeMs) samples.push({ labels: s.labels, t: timeMs, v: s.values[i]! });
    }
  }
  return { resultType: 'vector', samples };
}

type Outcome = { status: 'passed' | 'failed'; message?: string };

/** One evaluation of a statement (the original, or an @-pinned variant) in instant and range mode. */
async function checkQuery(
  engine: PromqlEngine,
  cmd: Extract<Command, { kind: 'eval' }>,
  expr: Expr,
  timeMs: number,
  rangeCheck: boolean,
  label: string,
): Promise<Outcome | null> {
  let result: QueryResult;
  try {
    result = (await engine.evaluateInstant(expr, timeMs)).result;
  } catch (err) {
    if (cmd.mode === 'eval_fail') return null;
    return { status: 'failed', message: `${label}expected ${describeExpected(cmd)}\n    got error: ${errorMessage(err)}` };
  }
  if (cmd.mode === 'eval_fail') {
    return { status: 'failed', message: `${label}expected an error\n    got: ${describeResult(result)}` };
  }
  const problem = checkResult(cmd, result);
  if (problem !== null) {
    return {
      status: 'failed',
      message: `${label}${problem}\n    expected: ${describeExpected(cmd)}\n    got:      ${describeResult(result)}`,
    };
  }
  if (!rangeCheck || result.resultType === 'matrix') return null;
  try {
    const range = await engine.evaluateRange(expr, timeMs - 60_000, timeMs + 60_000, 60_000);
    if (cmd.mode === 'eval_ordered') return null; // order has no meaning in range results
    let atT = rangeResultAt(range.result, timeMs);
    if (cmd.scalar !== null && atT.resultType === 'vector' && atT.samples.length === 1) {
      atT = { resultType: 'scalar', t: timeMs, v: atT.samples[0]!.v };
    }
    const rangeProblem = checkResult(cmd, atT);
    if (rangeProblem !== null) return { status: 'failed', message: `${label}range mode: ${rangeProblem}` };
  } catch (err) {
    return { status: 'failed', message: `${label}range mode: error ${errorMessage(err)}` };
  }
  return null;
}

async function runEval(engine: PromqlEngine, cmd: Extract<Command, { kind: 'eval' }>, options: RunnerOptions): Promise<Outcome> {
  let expr: Expr;
  try {
    expr = options.parse(cmd.expr);
  } catch (err) {
    return { status: 'failed', message: `parse error: ${errorMessage(err)}` };
  }
  const queries: { expr: Expr; timeMs: number; label: string }[] = [{ expr, timeMs: cmd.timeMs, label: '' }];
  if (options.atModifierCheck) {
    const pinned = pinToTime(expr, cmd.timeMs);
    if (pinned !== null) {
      const t = cmd.timeMs;
      const times = t === 0 ? [-1000, 0, 1000] : [-10 * t, 0, Math.trunc(t / 5), t, 10 * t];
      for (const et of times) queries.push({ expr: pinned, timeMs: et, label: `@ ${t / 1000} evaluated at ${et / 1000}s: ` });
    }
  }
  for (const q of queries) {
    const outcome = await checkQuery(engine, cmd, q.expr, q.timeMs, options.rangeCheck === true, q.label);
    if (outcome !== null) return outcome;
  }
  return { status: 'passed' };
}

/**
 * The upstream runner's @ variant: every selector and subquery without @, outside subqueries,
 * pinned to the evaluation time. Null when a time-dependent function makes that meaningless.
 */
export function pinToTime(expr: Expr, timeMs: number): Expr | null {
  let timeDependent = false;
  const atT = { kind: 'timestamp' as const, ms: timeMs };
  const visit = (e: Expr): Expr => {
    switch (e.kind) {
      case 'VectorSelector':
        return e.at === null ? { ...e, at: atT } : e;
      case 'MatrixSelector':
        return { ...e, vector: visit(e.vector) as typeof e.vector };
      case 'SubqueryExpr':
        if (e.at !== null) return e;
        return { ...e, at: atT };
      case 'Call':
        if (AT_MODIFIER_UNSAFE_FUNCTIONS.has(e.func)) timeDependent = true;
        return { ...e, args: e.args.map(visit) };
      case 'AggregateExpr':
        return { ...e, expr: visit(e.expr), param: e.param === null ? null : visit(e.param) };
      case 'BinaryExpr':
        return { ...e, lhs: visit(e.lhs), rhs: visit(e.rhs) };
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return { ...e, expr: visit(e.expr) };
      case 'NumberLiteral':
      case 'StringLiteral':
        return e;
    }
  };
  const pinned = visit(expr);
  return timeDependent ? null : pinned;
}

/** Runs every statement of one script against a fresh engine over in-memory data. */
export async function runScriptText(file: string, text: string, options: RunnerOptions): Promise<StatementResult[]> {
  let commands: Command[];
  try {
    commands = parseScript(text);
  } catch (err) {
    return [{ file, line: 0, expr: '', status: 'failed', message: `cannot read script: ${errorMessage(err)}` }];
  }
  const openStorage = options.openStorage ?? openMemoryStorage;
  let storage = await openStorage();
  // The engine reads through this indirection so `clear` can swap the store underneath it.
  const current: Queryable = { select: (params) => storage.select(params) };
  const engine = new PromqlEngine(current, {
    parse: options.parse,
    limits: { timeoutMs: 100_000, ...(options.maxSamples ? { maxSamples: options.maxSamples } : {}) },
    defaultSubqueryStepMs: 60_000,
  });
  const results: StatementResult[] = [];
  try {
    for (const cmd of commands) {
      if (cmd.kind === 'clear') {
        await storage.close();
        storage = await openStorage();
      } else if (cmd.kind === 'load') {
        await storage.load(cmd.series);
      } else {
        const skip = SKIPS.find((s) => s.pattern.test(cmd.expr));
        if (skip) {
          results.push({ file, line: cmd.line, expr: cmd.expr, status: 'skipped', message: skip.reason });
          continue;
        }
        const outcome = await runEval(engine, cmd, options);
        results.push({ file, line: cmd.line, expr: cmd.expr, ...outcome });
      }
    }
  } finally {
    await storage.close();
  }
  return results;
}

/** Runs every *.test file of a directory, in name order. */
export async function runDirectory(dir: string, options: RunnerOptions): Promise<StatementResult[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.test')).sort();
  const results: StatementResult[] = [];
  for (const f of files) results.push(...(await runScriptText(f, await readFile(join(dir, f), 'utf8'), options)));
  return results;
}

export function summarize(results: readonly StatementResult[]): { passed: number; failed: number; skipped: number } {
  const count = (status: StatementResult['status']): number => results.filter((r) => r.status === status).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

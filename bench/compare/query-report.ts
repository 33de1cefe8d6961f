/**
 * What the query benchmark measured, and its markdown rendering: per system and query kind the
 * p50 and p95 latency over all queries, the same per query class, the ratios to a reference
 * system, the queries with the worst ratios, failures, and where answers differed.
 *
 * A query's latency is the median of its timed repetitions; percentiles are taken over queries.
 * A timed-out query counts as the timeout (a lower bound); a query answered with an error has no
 * latency and is counted as failed.
 */
import type { QueryKind } from './query-http.js';
import { QUERY_KINDS } from './query-http.js';
import { ascending, median, percentile } from './query-stats.js';

export interface QueryMeasurement {
  readonly system: string;
  readonly cls: string;
  readonly query: string;
  readonly kind: QueryKind;
  /** Timed repetitions in ms; a timed-out request counts as the timeout. Empty after an error. */
  readonly timesMs: readonly number[];
  /** Why the query failed (an error answer or a timeout); absent when it did not. */
  readonly failure?: string;
  /**
   * The server's CPU time per timed request (user + system from /proc, in 10 ms ticks, so only
   * sums over many queries mean much); absent when its process was not known.
   */
  readonly cpuMs?: number;
  readonly series: number;
  readonly points: number;
}

export interface AnswerMismatch {
  readonly system: string;
  readonly cls: string;
  readonly query: string;
  readonly kind: QueryKind;
  readonly detail: string;
}

export interface QueryReport {
  readonly systems: readonly string[];
  readonly reps: number;
  readonly timeoutMs: number;
  readonly measurements: readonly QueryMeasurement[];
  /** The system every other system's answers were compared with; null when it was not measured. */
  readonly answerReference: string | null;
  /** Systems known to differ from the reference by design: their mismatches are information, not bugs. */
  readonly informational: readonly string[];
  /** Query × kind pairs whose answers were compared, per compared system. */
  readonly answersCompared: number;
  readonly mismatches: readonly AnswerMismatch[];
}

export interface LatencySummary {
  readonly queries: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Server CPU seconds for one request of each query; NaN when the server's CPU was not read. */
  readonly cpuS: number;
}

/** Median latency of one measurement; NaN when it failed with an error. */
export function queryLatency(m: QueryMeasurement): number {
  return median(m.timesMs);
}

/** p50 and p95 over the queries of one system and kind, optionally of one class. */
export function summarise(report: QueryReport, system: string, kind: QueryKind, cls?: string): LatencySummary {
  const chosen = report.measurements.filter((m) => m.system === system && m.kind === kind && (cls === undefined || m.cls === cls));
  const latencies = ascending(chosen.map(queryLatency).filter((ms) => !Number.isNaN(ms)));
  const withCpu = chosen.filter((m) => m.cpuMs !== undefined);
  return {
    queries: chosen.length,
    failed: chosen.filter((m) => m.failure !== undefined).length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    cpuS: withCpu.length === 0 ? NaN : withCpu.reduce((sum, m) => sum + m.cpuMs!, 0) / 1000,
  };
}

export function classesOf(report: QueryReport): string[] {
  return [...new Set(report.measurements.map((m) => m.cls))];
}

export interface QueryRatio {
  readonly system: string;
  readonly cls: string;
  readonly query: string;
  readonly kind: QueryKind;
  readonly ms: number;
  readonly referenceMs: number;
  readonly ratio: number;
}

/** Per query and kind, a system's latency over the reference's, worst first. */
export function worstQueries(report: QueryReport, system: string, reference: string, count: number): QueryRatio[] {
  const referenceMs = new Map<string, number>();
  const key = (m: QueryMeasurement): string => `${m.kind}\u0000${m.query}`;
  for (const m of report.measurements) if (m.system === reference) referenceMs.set(key(m), queryLatency(m));
  const ratios: QueryRatio[] = [];
  for (const m of report.measurements) {
    if (m.system !== system) continue;
    const ms = queryLatency(m);
    const theirs = referenceMs.get(key(m));
    if (theirs === undefined || !(theirs > 0) || Number.isNaN(ms)) continue;
    ratios.push({ system, cls: m.cls, query: m.query, kind: m.kind, ms, referenceMs: theirs, ratio: ms / theirs });
  }
  return ratios.sort((a, b) => b.ratio - a.ratio).slice(0, count);
}

export interface ClassRatio {
  readonly cls: string;
  readonly kind: QueryKind;
  readonly p50Ratio: number;
  readonly p95Ratio: number;
  /** NaN when CPU was not read. */
  readonly cpuRatio: number;
}

/** Per class and kind, the p50 and p95 of a system over the reference's, worst p50 ratio first. */
export function worstClasses(report: QueryReport, system: string, reference: string, count: number): ClassRatio[] {
  const out: ClassRatio[] = [];
  for (const kind of QUERY_KINDS) {
    for (const cls of classesOf(report)) {
      const mine = summarise(report, system, kind, cls);
      const theirs = summarise(report, reference, kind, cls);
      const p50Ratio = mine.p50Ms / theirs.p50Ms;
      if (!Number.isFinite(p50Ratio)) continue;
      out.push({ cls, kind, p50Ratio, p95Ratio: mine.p95Ms / theirs.p95Ms, cpuRatio: mine.cpuS / theirs.cpuS });
    }
  }
  return out.sort((a, b) => b.p50Ratio - a.p50Ratio).slice(0, count);
}

export function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return '–';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–';
}

function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < leftColumns ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

const LISTED_PER_SYSTEM = 10;
const WORST_CLASSES = 5;

/** The report as markdown, ratios being system ÷ reference (above 1: slower than the reference). */
export function renderQueryReport(report: QueryReport, reference: string): string {
  const others = report.systems.filter((s) => s !== reference);
  const hasReference = report.systems.includes(reference);
  const kinds = QUERY_KINDS.filter((k) => report.measurements.some((m) => m.kind === k));
  const parts: string[] = [];
  const queryCount = new Set(report.measurements.map((m) => m.query)).size;
  parts.push(
    `${queryCount} queries in ${classesOf(report).length} classes; each asked as ${kinds.join(', ')}; ` +
      `${report.reps} timed repetitions after one warm-up, systems interleaved, one request at a time, ` +
      `timeout ${report.timeoutMs / 1000} s. A query's latency is the median of its repetitions; ` +
      `p50 and p95 are over queries.${hasReference ? ` Ratios: system ÷ ${reference}.` : ''}\n`,
  );

  const withCpu = report.measurements.some((m) => m.cpuMs !== undefined);
  const overallRows: string[][] = [];
  for (const kind of kinds) {
    const ref = hasReference ? summarise(report, reference, kind) : undefined;
    for (const system of report.systems) {
      const s = summarise(report, system, kind);
      const row = [kind, system, String(s.queries), String(s.failed), formatMs(s.p50Ms), formatMs(s.p95Ms)];
      if (withCpu) row.push(Number.isNaN(s.cpuS) ? '–' : s.cpuS.toFixed(2));
      if (ref !== undefined) {
        const ratios = [s.p50Ms / ref.p50Ms, s.p95Ms / ref.p95Ms, ...(withCpu ? [s.cpuS / ref.cpuS] : [])];
        row.push(...ratios.map((r) => (system === reference ? '' : formatRatio(r))));
      }
      overallRows.push(row);
    }
  }
  const overallHeader = ['kind', 'system', 'queries', 'failed', 'p50 ms', 'p95 ms'];
  if (withCpu) overallHeader.push('server CPU s');
  if (hasReference) overallHeader.push('p50 ratio', 'p95 ratio', ...(withCpu ? ['CPU ratio'] : []));
  parts.push(
    `#### All queries\n\n${withCpu ? 'Server CPU: user + system seconds of the server process for one request of every query (from /proc, in 10 ms ticks; less noisy than latency on a shared machine).\n\n' : ''}` +
      table(overallHeader, overallRows, 2),
  );

  for (const kind of kinds) {
    const header = ['class', 'queries', ...report.systems.map((s) => `${s} p50 / p95 ms`)];
    if (hasReference) header.push(...others.map((s) => `${s} ratio p50 / p95${withCpu ? ' / CPU' : ''}`));
    const rows = classesOf(report).map((cls) => {
      const summaries = report.systems.map((s) => summarise(report, s, kind, cls));
      const row = [cls, String(summaries[0]?.queries ?? 0)];
      for (const s of summaries) row.push(`${formatMs(s.p50Ms)} / ${formatMs(s.p95Ms)}${s.failed > 0 ? ` (${s.failed} failed)` : ''}`);
      if (hasReference) {
        const ref = summarise(report, reference, kind, cls);
        for (const system of others) {
          const s = summarise(report, system, kind, cls);
          row.push(`${formatRatio(s.p50Ms / ref.p50Ms)} / ${formatRatio(s.p95Ms / ref.p95Ms)}${withCpu ? ` / ${formatRatio(s.cpuS / ref.cpuS)}` : ''}`);
        }
      }
      return row;
    });
    parts.push(`#### Per class, ${kind}\n\n${table(header, rows, 1)}`);
  }

  if (hasReference) {
    for (const system of others) {
      const classes = worstClasses(report, system, reference, WORST_CLASSES);
      parts.push(
        `#### ${system}: worst classes against ${reference}\n\n` +
          table(
            ['class', 'kind', 'p50 ratio', 'p95 ratio', ...(withCpu ? ['CPU ratio'] : [])],
            classes.map((c) => [c.cls, c.kind, formatRatio(c.p50Ratio), formatRatio(c.p95Ratio), ...(withCpu ? [formatRatio(c.cpuRatio)] : [])]),
            2,
          ),
      );
      const worst = worstQueries(report, system, reference, LISTED_PER_SYSTEM);
      parts.push(
        `#### ${system}: worst queries against ${reference}\n\n` +
          table(
            ['query', 'class', 'kind', `${system} ms`, `${reference} ms`, 'ratio'],
            worst.map((w) => [`\`${w.query}\``, w.cls, w.kind, formatMs(w.ms), formatMs(w.referenceMs), formatRatio(w.ratio)]),
            3,
          ),
      );
    }
  }

  const failures = report.measurements.filter((m) => m.failure !== undefined);
  if (failures.length > 0) {
    const lines = report.systems.flatMap((system) =>
      failures
        .filter((m) => m.system === system)
        .slice(0, LISTED_PER_SYSTEM)
        .map((m) => `- ${system}, ${m.kind}: \`${m.query}\`: ${m.failure}`),
    );
    parts.push(`#### Failures (first ${LISTED_PER_SYSTEM} per system)\n\n${lines.join('\n')}\n`);
  }

  parts.push(renderAnswers(report));
  return parts.join('\n');
}

function renderAnswers(report: QueryReport): string {
  const reference = report.answerReference;
  if (reference === null) return '#### Answers\n\nNot compared: the reference system was not measured.\n';
  const compared = report.systems.filter((s) => s !== reference);
  const header = ['class', ...compared.map((s) => `${s} mismatches${report.informational.includes(s) ? ' (information)' : ''}`)];
  const rows = classesOf(report)
    .map((cls) => [cls, ...compared.map((s) => String(report.mismatches.filter((m) => m.system === s && m.cls === cls).length))])
    .filter((row) => row.slice(1).some((cell) => cell !== '0'));
  const totals = ['all', ...compared.map((s) => String(report.mismatches.filter((m) => m.system === s).length))];
  let out =
    `#### Answers compared with ${reference}\n\n${report.answersCompared} query × kind pairs per system; ` +
    `same series, values within 1e-6 relative, after sorting.\n\n${table(header, [...rows, totals], 1)}`;
  for (const system of compared.filter((s) => !report.informational.includes(s))) {
    const listed = report.mismatches.filter((m) => m.system === system).slice(0, LISTED_PER_SYSTEM);
    if (listed.length === 0) continue;
    out += `\n${system} differs from ${reference} (first ${listed.length}):\n\n`;
    out += listed.map((m) => `- ${m.kind}: \`${m.query}\`: ${m.detail}`).join('\n');
    out += '\n';
  }
  return out;
}

/** Markdown tables of the side-by-side benchmark, and the marked section of docs/benchmarks.md they replace. */
import { describeSize, type DatasetSize } from './dataset.js';

export interface IngestRow {
  readonly size: DatasetSize;
  /** Label in the tables. */
  readonly system: string;
  /** Query target name of the same system. */
  readonly name: string;
  readonly concurrency: number;
  readonly samples: number;
  readonly seconds: number;
  readonly cpuSecondsPerMillion: number;
  readonly peakRssBytes: number;
  /** Largest RssAnon and RssFile seen while sampling (see proc-stats.ts). */
  readonly peakAnonBytes: number;
  readonly peakFileBytes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly retries: number;
}

export interface DiskRow {
  readonly size: DatasetSize;
  readonly system: string;
  readonly samples: number;
  readonly bytes: number;
  readonly what: string;
  readonly also: readonly { readonly what: string; readonly bytes: number }[];
}

export interface QueryLatencyRow {
  readonly size: DatasetSize;
  /** Query target name. */
  readonly system: string;
  readonly kind: string;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly failed: number;
}

export interface FlareDbRow {
  readonly size: DatasetSize;
  readonly concurrency: number;
  readonly samples: number;
  readonly seconds: number;
  readonly gatewayCpuSecondsPerMillion: number;
  readonly flaredbCpuSecondsPerMillion: number;
  readonly kvCallsPerSample: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export const BEGIN_MARKER = '<!-- bench:begin -->';
export const END_MARKER = '<!-- bench:end -->';
export const SECTION_HEADING = '## Side by side: Metricstor, VictoriaMetrics, Prometheus';

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const mib = (bytes: number): string => int(bytes / 1024 / 1024);
const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');

export function samplesPerSecond(row: IngestRow): number {
  return row.samples / row.seconds;
}

function table(header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export function renderIngestTable(rows: readonly IngestRow[]): string {
  return table(
    ['data', 'system', 'concurrency', 'samples', 'seconds', 'samples/s', 'CPU-s per 1M samples', 'peak RSS MiB', 'anon / file MiB', 'p50 ms', 'p99 ms'],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((r) => [
      describeSize(r.size),
      r.system,
      String(r.concurrency),
      int(r.samples),
      fixed(r.seconds, 1),
      int(samplesPerSecond(r)),
      fixed(r.cpuSecondsPerMillion, 2),
      mib(r.peakRssBytes),
      `${mib(r.peakAnonBytes)} / ${mib(r.peakFileBytes)}`,
      fixed(r.p50Ms, 1),
      fixed(r.p99Ms, 1),
    ]),
  );
}

/**
 * Each reference system's figure divided by Metricstor's (`baseline`) at the same size and
 * concurrency: above 1 means the reference ingests faster, or uses more CPU or memory.
 */
export function renderIngestRatios(rows: readonly IngestRow[], baseline: string): string {
  const out: string[][] = [];
  for (const r of rows) {
    if (r.system === baseline) continue;
    const base = rows.find((b) => b.system === baseline && b.concurrency === r.concurrency && sameSize(b.size, r.size));
    if (base === undefined) continue;
    out.push([
      describeSize(r.size),
      r.system,
      String(r.concurrency),
      ratio(samplesPerSecond(r) / samplesPerSecond(base)),
      ratio(r.cpuSecondsPerMillion / base.cpuSecondsPerMillion),
      ratio(r.peakRssBytes / base.peakRssBytes),
    ]);
  }
  return table(['data', 'system', 'concurrency', 'samples/s ÷ Metricstor', 'CPU-s per 1M ÷ Metricstor', 'peak RSS ÷ Metricstor'], ['l', 'l', 'r', 'r', 'r', 'r'], out);
}

export function renderDiskTable(rows: readonly DiskRow[], baseline: string): string {
  return table(
    ['data', 'system', 'bytes/sample', '÷ Metricstor', 'MiB', 'what is measured', 'also'],
    ['l', 'l', 'r', 'r', 'r', 'l', 'l'],
    rows.map((r) => {
      const base = rows.find((b) => b.system === baseline && sameSize(b.size, r.size));
      return [
        describeSize(r.size),
        r.system,
        fixed(r.bytes / r.samples, 2),
        base === undefined || base === r ? '–' : ratio(r.bytes / base.bytes),
        fixed(r.bytes / 1024 / 1024, 1),
        r.what,
        r.also.map((a) => `${a.what}: ${fixed(a.bytes / r.samples, 2)} bytes/sample`).join('; ') || '–',
      ];
    }),
  );
}

export function renderFlareDbTable(rows: readonly FlareDbRow[]): string {
  return table(
    ['data', 'concurrency', 'samples', 'samples/s', 'gateway CPU-s per 1M', 'flaredb-dev CPU-s per 1M', 'KV calls per sample', 'p50 ms', 'p99 ms'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((r) => [
      describeSize(r.size),
      String(r.concurrency),
      int(r.samples),
      int(r.samples / r.seconds),
      fixed(r.gatewayCpuSecondsPerMillion, 2),
      fixed(r.flaredbCpuSecondsPerMillion, 2),
      fixed(r.kvCallsPerSample, 3),
      fixed(r.p50Ms, 1),
      fixed(r.p99Ms, 1),
    ]),
  );
}

/** One row per size and system: ingest at `concurrency`, disk, and query p50 / p95 per kind. */
export function renderScalingTable(ingest: readonly IngestRow[], disk: readonly DiskRow[], queries: readonly QueryLatencyRow[], concurrency: number): string {
  const kinds = [...new Set(queries.map((q) => q.kind))];
  const rows = ingest
    .filter((r) => r.concurrency === concurrency)
    .map((r) => {
      const d = disk.find((x) => x.system === r.system && sameSize(x.size, r.size));
      const cells = [describeSize(r.size), r.system, int(r.samples), int(samplesPerSecond(r)), fixed(r.cpuSecondsPerMillion, 2), mib(r.peakRssBytes), d === undefined ? '–' : fixed(d.bytes / d.samples, 2)];
      for (const kind of kinds) {
        const q = queries.find((x) => x.system === r.name && x.kind === kind && sameSize(x.size, r.size));
        cells.push(q === undefined ? '–' : `${fixed(q.p50Ms, 1)} / ${fixed(q.p95Ms, 1)}${q.failed > 0 ? ` (${q.failed} failed)` : ''}`);
      }
      return cells;
    });
  return table(
    ['data', 'system', 'samples', 'samples/s', 'CPU-s per 1M', 'peak RSS MiB', 'bytes/sample', ...kinds.map((k) => `${k} p50 / p95 ms`)],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', ...kinds.map(() => 'r' as const)],
    rows,
  );
}

function sameSize(a: DatasetSize, b: DatasetSize): boolean {
  return a.hosts === b.hosts && a.hours === b.hours;
}

/**
 * The document with the text between the markers replaced by `body`; without markers the
 * section (heading and markers) is appended at the end.
 */
export function replaceSection(doc: string, body: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  const inner = `${BEGIN_MARKER}\n${body.trim()}\n${END_MARKER}`;
  if (begin >= 0 && end > begin) return doc.slice(0, begin) + inner + doc.slice(end + END_MARKER.length);
  return `${doc.trimEnd()}\n\n${SECTION_HEADING}\n\n${inner}\n`;
}

import { open } from 'node:fs/promises';
import { parseOptions, serverUrl, UsageError } from './options.js';
import { createProgress } from './progress.js';

export type ImportFormat = 'prometheus' | 'jsonl';

/** Bytes of text sent per request: well under the server's default body limit. */
const BATCH_BYTES = 2 * 1024 * 1024;
const READ_BYTES = 256 * 1024;

/**
 * `metricstor import FILE [--format prometheus|jsonl] [--url URL]`. Both formats are sent to
 * /api/v1/import/prometheus in batches of whole lines; jsonl lines (VictoriaMetrics's
 * /api/v1/import format) are rewritten as exposition lines with explicit timestamps.
 */
export async function importCommand(
  args: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
  isTty: boolean,
): Promise<number> {
  const { positional, options } = parseOptions(args, ['format', 'url']);
  if (positional.length !== 1) throw new UsageError('import needs exactly one file');
  const file = positional[0]!;
  const format = options.get('format') ?? (file.endsWith('.jsonl') || file.endsWith('.json') ? 'jsonl' : 'prometheus');
  if (format !== 'prometheus' && format !== 'jsonl') throw new UsageError(`unknown format ${JSON.stringify(format)}: want prometheus or jsonl`);
  const url = `${serverUrl(options)}/api/v1/import/prometheus`;
  const handle = await open(file, 'r').catch((e: unknown) => {
    throw new UsageError(`cannot open ${file}: ${e instanceof Error ? e.message : String(e)}`);
  });
  const totalBytes = (await handle.stat()).size;
  const progress = createProgress(totalBytes, isTty, err);
  const startMs = Date.now();
  let readBytes = 0;
  let samples = 0;
  let requests = 0;
  let lineNo = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  let pendingSamples = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const res = await fetch(url, { method: 'POST', body: `${pending.join('\n')}\n`, headers: { 'content-type': 'text/plain' } });
    if (res.status !== 204) throw new ImportFailed(`HTTP ${res.status} after ${samples} samples: ${(await res.text()).trim()}`);
    requests++;
    samples += pendingSamples;
    pending = [];
    pendingBytes = 0;
    pendingSamples = 0;
    progress.update(readBytes, samples);
  };
  try {
    let carry = '';
    const buffer = Buffer.alloc(READ_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
      readBytes += bytesRead;
      const text = carry + buffer.toString('utf8', 0, bytesRead);
      const lines = text.split('\n');
      carry = bytesRead === 0 ? '' : lines.pop()!;
      for (const raw of lines) {
        lineNo++;
        const line = raw.replace(/\r$/, '');
        if (line.trim() === '') continue;
        const converted = format === 'jsonl' ? jsonlToExposition(line, lineNo) : { text: line, samples: line.startsWith('#') ? 0 : 1 };
        pending.push(converted.text);
        pendingBytes += converted.text.length + 1;
        pendingSamples += converted.samples;
        if (pendingBytes >= BATCH_BYTES) await flush();
      }
      if (bytesRead === 0) break;
    }
    await flush();
  } catch (e) {
    progress.done();
    if (e instanceof ImportFailed || e instanceof UsageError) {
      err(`metricstor: import failed: ${e.message}\n`);
      return 1;
    }
    err(`metricstor: import failed after ${samples} samples: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}\n`);
    return 1;
  } finally {
    await handle.close();
  }
  progress.done();
  const seconds = (Date.now() - startMs) / 1000;
  out(`imported ${samples} samples from ${file} (${readBytes} bytes, ${requests} requests) in ${seconds.toFixed(2)} s\n`);
  return 0;
}

class ImportFailed extends Error {}

/** One VictoriaMetrics JSON line as exposition lines `name{labels} value timestamp_ms`. */
export function jsonlToExposition(line: string, lineNo: number): { text: string; samples: number } {
  const fail = (why: string): never => {
    throw new ImportFailed(`line ${lineNo}: ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return fail('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) return fail('want an object');
  const { metric, values, timestamps } = parsed as { metric?: unknown; values?: unknown; timestamps?: unknown };
  if (typeof metric !== 'object' || metric === null) return fail('want "metric": {...}');
  if (!Array.isArray(values) || !Array.isArray(timestamps) || values.length !== timestamps.length) {
    return fail('"values" and "timestamps" must be arrays of one length');
  }
  const labels = Object.entries(metric as Record<string, unknown>);
  const name = labels.find(([k]) => k === '__name__')?.[1];
  if (typeof name !== 'string' || name === '') return fail('the metric needs a __name__');
  const rest = labels
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => {
      if (typeof v !== 'string') fail(`label ${k} must be a string`);
      return `${k}="${escapeLabelValue(v as string)}"`;
    });
  const series = rest.length === 0 ? name : `${name}{${rest.join(',')}}`;
  const out: string[] = [];
  values.forEach((v: unknown, i) => {
    const t: unknown = timestamps[i];
    if (typeof t !== 'number' || !Number.isSafeInteger(t)) fail(`timestamps[${i}] must be integer milliseconds`);
    out.push(`${series} ${formatValue(v, i, fail)} ${String(t)}`);
  });
  return { text: out.join('\n'), samples: out.length };
}

function formatValue(v: unknown, i: number, fail: (why: string) => never): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
  if (v === null) return 'NaN';
  if (typeof v === 'string' && /^(?:[+-]?Inf|NaN)$/i.test(v)) return v;
  return fail(`values[${i}] must be a number`);
}

function escapeLabelValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

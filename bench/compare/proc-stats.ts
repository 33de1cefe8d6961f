/** CPU time and peak memory of a server process, read from Linux /proc. */
import { readFileSync } from 'node:fs';

/** Linux USER_HZ: the unit of the times in /proc/<pid>/stat. */
const CLK_TCK = 100;

/**
 * utime + stime of the process and of its children it has waited for (cutime + cstime), in
 * seconds, from the text of /proc/<pid>/stat. The command name may hold spaces and parentheses,
 * so fields are counted from the last ')'.
 */
export function parseCpuSeconds(statText: string): number {
  const fields = statText.slice(statText.lastIndexOf(')') + 2).trim().split(' ');
  // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
  const ticks = [11, 12, 13, 14].map((i) => Number(fields[i]));
  if (ticks.some((t) => !Number.isFinite(t))) throw new Error(`unexpected /proc stat line: ${statText.slice(0, 200)}`);
  return ticks.reduce((a, b) => a + b, 0) / CLK_TCK;
}

/** VmHWM (peak resident set) in bytes from the text of /proc/<pid>/status. */
export function parsePeakRssBytes(statusText: string): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(statusText);
  if (m === null) throw new Error('no VmHWM line in /proc status');
  return Number(m[1]) * 1024;
}

export function cpuSeconds(pid: number): number {
  return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function peakRssBytes(pid: number): number {
  return parsePeakRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Resident anonymous memory and resident file-backed (mapped file) memory, in bytes. */
export interface RssSplit {
  readonly anonBytes: number;
  readonly fileBytes: number;
}

/** RssAnon and RssFile in bytes from the text of /proc/<pid>/status. */
export function parseRssSplit(statusText: string): RssSplit {
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(statusText);
    if (m === null) throw new Error(`no ${name} line in /proc status`);
    return Number(m[1]) * 1024;
  };
  return { anonBytes: kb('RssAnon'), fileBytes: kb('RssFile') };
}

/**
 * The largest RssAnon and RssFile seen while sampling every `everyMs` (the kernel keeps a peak
 * only for the total, VmHWM). Mapped files count in RSS once read through the mapping, so this
 * tells a large heap from a large mapped data file.
 */
export function sampleRssSplit(pid: number, everyMs = 250): { stop(): RssSplit } {
  let anonBytes = 0;
  let fileBytes = 0;
  return sampleWhileAlive(everyMs, () => {
    const s = parseRssSplit(readFileSync(`/proc/${pid}/status`, 'utf8'));
    anonBytes = Math.max(anonBytes, s.anonBytes);
    fileBytes = Math.max(fileBytes, s.fileBytes);
  }, () => ({ anonBytes, fileBytes }));
}

/**
 * Calls `sample` now and every `everyMs` until stop(), which samples once more and returns
 * `result()`. A sample that throws (the process is gone) is skipped; what was seen is kept.
 */
function sampleWhileAlive<T>(everyMs: number, sample: () => void, result: () => T): { stop(): T } {
  const tryOnce = (): void => {
    try {
      sample();
    } catch {
      // the process is gone; keep what was seen
    }
  };
  tryOnce();
  const timer = setInterval(tryOnce, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tryOnce();
      return result();
    },
  };
}

/** Resident bytes of a process by kind of mapping, from /proc/<pid>/smaps. */
export interface SmapsResidency {
  /** 256 KiB anonymous mappings: the size of V8's heap pages, so mostly the JS heaps. */
  readonly v8PagesBytes: number;
  /** The main thread's malloc heap ([heap]). */
  readonly mallocHeapBytes: number;
  /** Anonymous mappings of 16 MiB or more: mostly the malloc arenas of other threads. */
  readonly largeAnonBytes: number;
  /** Every other anonymous mapping (stacks, small malloc mmaps, code space, ...). */
  readonly otherAnonBytes: number;
  /** Mapped files whose name ends in `dataFileSuffix` (the KV's data file). */
  readonly dataFileBytes: number;
  /** Every other mapped file (the node binary, shared libraries, native addons). */
  readonly otherFileBytes: number;
}

const V8_PAGE_KB = 256;
const LARGE_ANON_KB = 16 * 1024;

/** Sums the Rss of each mapping in the text of /proc/<pid>/smaps by the kinds of SmapsResidency. */
export function parseSmapsResidency(smapsText: string, dataFileSuffix: string): SmapsResidency {
  const kb = { v8: 0, heap: 0, large: 0, anon: 0, data: 0, file: 0 };
  let kind: keyof typeof kb = 'anon';
  for (const line of smapsText.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null) {
      const sizeKb = (parseInt(header[2]!, 16) - parseInt(header[1]!, 16)) / 1024;
      const name = header[3]!;
      if (name === '[heap]') kind = 'heap';
      else if (name.startsWith('/')) kind = name.endsWith(dataFileSuffix) ? 'data' : 'file';
      else if (name !== '') kind = 'anon';
      else kind = sizeKb === V8_PAGE_KB ? 'v8' : sizeKb >= LARGE_ANON_KB ? 'large' : 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss !== null) kb[kind] += Number(rss[1]);
  }
  return {
    v8PagesBytes: kb.v8 * 1024,
    mallocHeapBytes: kb.heap * 1024,
    largeAnonBytes: kb.large * 1024,
    otherAnonBytes: kb.anon * 1024,
    dataFileBytes: kb.data * 1024,
    otherFileBytes: kb.file * 1024,
  };
}

/**
 * Samples VmRSS every `everyMs` and keeps the smaps breakdown taken when it was highest, so the
 * parts of the peak can be told apart.
 */
export function sampleSmapsAtPeak(pid: number, dataFileSuffix: string, everyMs = 1000): { stop(): SmapsResidency | null } {
  let highest = 0;
  let atPeak: SmapsResidency | null = null;
  return sampleWhileAlive(everyMs, () => {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const rss = m === null ? 0 : Number(m[1]);
    if (rss <= highest) return;
    highest = rss;
    atPeak = parseSmapsResidency(readFileSync(`/proc/${pid}/smaps`, 'utf8'), dataFileSuffix);
  }, () => atPeak);
}

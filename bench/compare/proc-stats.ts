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
  const sample = (): void => {
    try {
      const s = parseRssSplit(readFileSync(`/proc/${pid}/status`, 'utf8'));
      anonBytes = Math.max(anonBytes, s.anonBytes);
      fileBytes = Math.max(fileBytes, s.fileBytes);
    } catch {
      // the process is gone; keep what was seen
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { anonBytes, fileBytes };
    },
  };
}

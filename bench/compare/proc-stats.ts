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

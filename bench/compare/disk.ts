/** Bytes a directory tree occupies on disk (allocated blocks, as `du` counts them). */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export async function diskUsageBytes(dir: string, skip: ReadonlySet<string> = new Set()): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (skip.has(full)) continue;
    if (e.isDirectory()) total += await diskUsageBytes(full, skip);
    else {
      const st = await lstat(full).catch(() => undefined);
      if (st !== undefined) total += st.blocks * 512;
    }
  }
  return total;
}

/** Calls `measure` until it returns the same value twice in a row `intervalMs` apart, or the time runs out. */
export async function waitUntilStable(measure: () => Promise<number>, intervalMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = await measure();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const next = await measure();
    if (next === last) return next;
    last = next;
  }
  return last;
}

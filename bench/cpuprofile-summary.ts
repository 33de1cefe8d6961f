/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time by function and by source
 * file, largest first.
 *
 *   npx tsx bench/cpuprofile-summary.ts FILE.cpuprofile [more files] [--top=30] [--under=src/]
 *
 * --under keeps the by-file table to paths containing that text (the by-function table always
 * shows everything, native and library frames included).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The file part of a frame's url, from the repository root when the url contains it. */
function shortFile(url: string): string {
  if (url === '') return '(native)';
  const plain = url.replace(/^file:\/\//, '');
  for (const marker of ['/src/', '/bench/', '/node_modules/', '/scripts/']) {
    const at = plain.lastIndexOf(marker);
    if (at >= 0) return plain.slice(at + 1);
  }
  return plain;
}

function addTo(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function table(title: string, map: Map<string, number>, totalUs: number, top: number): string {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(([k, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${k}`);
  return `${title}\n${lines.join('\n')}\n`;
}

function main(): void {
  const argv = process.argv.slice(2);
  const files = argv.filter((a) => !a.startsWith('--'));
  const top = Number(argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
  const under = argv.find((a) => a.startsWith('--under='))?.slice(8);
  if (files.length === 0) throw new Error('usage: cpuprofile-summary.ts FILE.cpuprofile [...] [--top=N] [--under=TEXT]');
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const frame = nodes.get(id)!.callFrame;
      const fileName = shortFile(frame.url);
      totalUs += us;
      addTo(byFunction, `${frame.functionName || '(anonymous)'}  ${fileName}:${frame.lineNumber + 1}`, us);
      if (under === undefined || fileName.includes(under)) addTo(byFile, fileName, us);
    });
  }
  process.stdout.write(`profiled ${(totalUs / 1000).toFixed(0)} ms in ${files.length} file(s)\n\n`);
  process.stdout.write(table('self time by function', byFunction, totalUs, top));
  process.stdout.write(`\n${table(`self time by file${under === undefined ? '' : ` (paths containing ${under})`}`, byFile, totalUs, top)}`);
}

main();

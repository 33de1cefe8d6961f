import { checkConfig, formatProblem, readConfigFile } from '../config/load.js';
import { UsageError } from './options.js';

/** `metricstor config check FILE`: every problem as `file:line:col: message`, exit 1; or `FILE: OK`, exit 0. */
export function configCheckCommand(args: readonly string[], out: (text: string) => void, err: (text: string) => void): number {
  if (args.length !== 1 || args[0]!.startsWith('--')) throw new UsageError('config check needs exactly one file');
  const file = args[0]!;
  let source: { name: string; text: string };
  try {
    source = readConfigFile(file);
  } catch (e) {
    err(`${file}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const problems = checkConfig({ file: source });
  if (problems.length === 0) {
    out(`${file}: OK\n`);
    return 0;
  }
  for (const p of problems) err(`${formatProblem(p)}\n`);
  err(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  return 1;
}

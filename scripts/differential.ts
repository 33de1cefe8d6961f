// Differential check of our engine against a real Prometheus 2.42 over the same data.
// Usage: npx tsx scripts/differential.ts [--verbose] [--random=N] [--seed=S]
import { prometheusAvailable, randomQueries, runDifferential } from '../src/promql/testing/differential.js';

async function main(): Promise<number> {
  if (!prometheusAvailable()) {
    process.stderr.write('prometheus and promtool must be on PATH\n');
    return 2;
  }
  const verbose = process.argv.includes('--verbose');
  const option = (name: string): number | null => {
    const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
    return arg === undefined ? null : Number(arg.slice(name.length + 3));
  };
  const random = option('random');
  const queries = random === null ? undefined : randomQueries(random, option('seed') ?? 1);
  const report = await runDifferential((line) => {
    if (verbose || line.startsWith('FAIL')) process.stdout.write(`${line}\n`);
  }, queries);
  const matched = report.checked - report.failures.length;
  process.stdout.write(
    `${matched} of ${report.checked} range and instant queries match Prometheus ` +
      `(${report.points} points compared, ${report.bothFailed} rejected by both)\n`,
  );
  return report.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);

// Differential check of our engine against a real Prometheus 2.42 over the same data.
// Usage: npx tsx scripts/differential.ts [--verbose]
import { prometheusAvailable, runDifferential } from '../src/promql/testing/differential.js';

async function main(): Promise<number> {
  if (!prometheusAvailable()) {
    process.stderr.write('prometheus and promtool must be on PATH\n');
    return 2;
  }
  const verbose = process.argv.includes('--verbose');
  const report = await runDifferential((line) => {
    if (verbose || line.startsWith('FAIL')) process.stdout.write(`${line}\n`);
  });
  const matched = report.checked - report.failures.length;
  process.stdout.write(
    `${matched} of ${report.checked} range and instant queries match Prometheus (${report.points} points compared)\n`,
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

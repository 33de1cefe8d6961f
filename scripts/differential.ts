// Differential check of Metricstor against a real Prometheus 2.42 over the same pushed data.
// Usage: npx tsx scripts/differential.ts [--memory] [--verbose] [--random=N] [--seed=S]
//   --memory: our engine over in-memory data instead of a Metricstor server (engine-only, quicker)
import { prometheusAvailable, randomQueries, runDifferential } from '../src/promql/testing/differential.js';

async function main(): Promise<number> {
  if (!prometheusAvailable()) {
    process.stderr.write('prometheus must be on PATH\n');
    return 2;
  }
  const verbose = process.argv.includes('--verbose');
  const option = (name: string): number | null => {
    const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
    return arg === undefined ? null : Number(arg.slice(name.length + 3));
  };
  const random = option('random');
  const started = performance.now();
  const report = await runDifferential({
    mode: process.argv.includes('--memory') ? 'memory' : 'http',
    log: (line) => {
      if (verbose || line.startsWith('FAIL')) process.stdout.write(`${line}\n`);
    },
    ...(random === null ? {} : { queries: randomQueries(random, option('seed') ?? 1) }),
  });
  const matched = report.checked - report.failures.length;
  process.stdout.write(
    `${matched} of ${report.checked} range and instant queries match Prometheus ` +
      `(${report.mode === 'http' ? 'Metricstor server over HTTP' : 'engine over in-memory data'}; ` +
      `${report.points} points compared, ${report.bothFailed} rejected by both; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
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

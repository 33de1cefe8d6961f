import { errorMessage } from '../errors.js';
import { configCheckCommand } from './config-check.js';
import { importCommand } from './import.js';
import { DEFAULT_URL, parseOptions, UsageError } from './options.js';
import { queryCommand } from './query.js';

const USAGE = `Usage: metricstor <command> [options]

Commands:
  serve [--config FILE] [--<setting> VALUE ...]
        Run the server. Settings come from built-in defaults, then the YAML file, then
        METRICSTOR_* environment variables, then flags named after the YAML keys
        (--server.http-addr 127.0.0.1:9101, --storage.retention-days 30, ...).
  query EXPR [--time T] [--start S --end E [--step D]] [--url URL]
        Run an instant query (or a range query with --start/--end/--step) and print a table.
        Times: now, now-1h, Unix seconds or RFC 3339. Steps: 15s, 1m or seconds.
  import FILE [--format prometheus|jsonl] [--url URL]
        Send a Prometheus text exposition or VictoriaMetrics JSON lines to the server.
  agent --config FILE
        Run the scrape agent: scrape targets and push their samples with remote write
        (docs/agent.md).
  config check FILE
        Report unknown keys, wrong types, bad addresses and unreadable files with their location.
  --help
        Show this help.

--url defaults to $METRICSTOR_URL or ${DEFAULT_URL}. Settings: docs/configuration.md.
`;

const out = (text: string): void => void process.stdout.write(text);
const err = (text: string): void => void process.stderr.write(text);

async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      // Loaded only here: the client commands start faster without the whole server.
      const { serveCommand } = await import('./serve.js');
      await serveCommand(rest);
      return undefined; // keeps running until a signal
    }
    case 'agent': {
      const { positional, options } = parseOptions(rest, ['config']);
      const configFile = options.get('config');
      if (positional.length > 0 || configFile === undefined) throw new UsageError('agent takes --config FILE and nothing else');
      const { agentCommand } = await import('../agent/cli.js');
      await agentCommand(configFile);
      return 0;
    }
    case 'query':
      return queryCommand(rest, out, err);
    case 'import':
      return importCommand(rest, out, err, process.stderr.isTTY === true);
    case 'config':
      if (rest[0] !== 'check') throw new UsageError(`unknown config subcommand ${JSON.stringify(rest[0] ?? '')}; want check`);
      return configCheckCommand(rest.slice(1), out, err);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      err(`metricstor: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    err(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'metricstor failed', error: errorMessage(e) })}\n`);
    process.exit(1);
  },
);

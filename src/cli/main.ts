import { applyEnv, DEFAULT_CONFIG } from '../config/config.js';
import { errorMessage } from '../errors.js';
import { startServer } from '../server.js';

const USAGE = `Usage: metricstor <command>

Commands:
  serve    run the server (HTTP on METRICSTOR_HTTP_ADDR, data in METRICSTOR_DATA_DIR)
`;

async function serve(): Promise<void> {
  const config = applyEnv(DEFAULT_CONFIG, process.env);
  const server = await startServer(config);
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'listening', http: server.httpAddress })}\n`);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`metricstor: error while stopping: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(argv: readonly string[]): Promise<void> {
  const command = argv[0];
  switch (command) {
    case 'serve':
      return serve();
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`metricstor: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`metricstor: ${errorMessage(err)}\n`);
  process.exit(1);
});

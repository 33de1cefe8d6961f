import { formatProblem, loadConfig, parseFlags, readConfigFile } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { startServer } from '../server.js';
import { limitHeapGrowth } from './heap-growth.js';
import { UsageError } from './options.js';

/**
 * `metricstor serve [--config FILE] [--<setting> VALUE ...]`: defaults, then the file, then
 * METRICSTOR_* variables, then flags. Stops cleanly on SIGTERM and SIGINT.
 */
export async function serveCommand(args: readonly string[]): Promise<void> {
  const { configFile, flags, positional, problems } = parseFlags(args);
  if (positional.length > 0) throw new UsageError(`serve takes no arguments, got ${JSON.stringify(positional[0])}`);
  if (problems.length > 0) throw new UsageError(problems.map(formatProblem).join('\n'));
  const config = loadConfig({
    ...(configFile === undefined ? {} : { file: readConfigFile(configFile) }),
    env: process.env,
    flags,
  });
  limitHeapGrowth(config.server.heapGrowthPercent);
  const logger = createLogger({ level: config.server.logLevel });
  logger.info('starting', { config: configFile ?? null, dataDir: config.storage.dataDir, backend: config.storage.backend });
  const server = await startServer(config, { logger });
  const stop = (signal: string): void => {
    logger.info('signal received', { signal });
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('error while stopping', { error: errorMessage(err) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

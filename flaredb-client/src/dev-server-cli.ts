import { parseArgs } from 'node:util';
import { startDevServer, type DevServerOptions, type NamespaceMode } from './dev-server.js';

const USAGE = `usage: flaredb-dev [--addr HOST:PORT] [--data-dir DIR] [--namespace NAME=strong|eventual]...
                   [--default-mode strong|eventual] [--no-sync]
                   [--tls-cert FILE --tls-key FILE [--tls-ca FILE [--require-client-cert]]]

A kvrpc-compatible server for tests and local development; not a FlareDB replacement.`;

/** Parses the command line into server options; throws with the usage text on bad input. */
export function parseDevServerArgs(argv: readonly string[]): DevServerOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      addr: { type: 'string', default: '127.0.0.1:7070' },
      'data-dir': { type: 'string' },
      namespace: { type: 'string', multiple: true, default: [] },
      'default-mode': { type: 'string', default: 'strong' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'require-client-cert': { type: 'boolean', default: false },
      'no-sync': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new UsageRequested(USAGE);
  const namespaces: Record<string, NamespaceMode> = {};
  for (const spec of values.namespace) {
    const eq = spec.lastIndexOf('=');
    const mode = eq < 0 ? '' : spec.slice(eq + 1);
    if (!isMode(mode)) throw new Error(`bad --namespace ${JSON.stringify(spec)}: want NAME=strong or NAME=eventual\n${USAGE}`);
    namespaces[spec.slice(0, eq)] = mode;
  }
  const defaultMode = values['default-mode'];
  if (!isMode(defaultMode)) throw new Error(`bad --default-mode ${JSON.stringify(defaultMode)}\n${USAGE}`);
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  const ca = values['tls-ca'];
  if ((cert === undefined) !== (key === undefined)) throw new Error(`--tls-cert and --tls-key go together\n${USAGE}`);
  if (cert === undefined && (ca !== undefined || values['require-client-cert'])) {
    throw new Error(`--tls-ca and --require-client-cert need --tls-cert and --tls-key\n${USAGE}`);
  }
  return {
    address: values.addr,
    namespaces,
    defaultMode,
    sync: !values['no-sync'],
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    ...(cert === undefined || key === undefined
      ? {}
      : {
          tls: {
            certFile: cert,
            keyFile: key,
            ...(ca === undefined ? {} : { caFile: ca }),
            requireClientCert: values['require-client-cert'],
          },
        }),
  };
}

/** Thrown for --help: the message is the usage text, and it is not an error. */
export class UsageRequested extends Error {}

/** Runs the server until SIGINT or SIGTERM. */
export async function main(argv: readonly string[]): Promise<void> {
  let options: DevServerOptions;
  try {
    options = parseDevServerArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageRequested)) throw err;
    console.log(err.message);
    return;
  }
  const server = await startDevServer(options);
  console.log(`flaredb-dev listening on ${server.address}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}

function isMode(s: string): s is NamespaceMode {
  return s === 'strong' || s === 'eventual';
}

/** Builds the listeners' security from the server config: TLS material with reloads, and the access guard. */
import type Koa from 'koa';
import type { Config } from '../config/config.js';
import { badData } from '../errors.js';
import { AccessPolicy, type AccessLists } from '../tls/access.js';
import { TlsReloader } from '../tls/reloader.js';
import type { FileWatchOptions } from '../tls/watch.js';
import { accessGuard } from './auth.js';
import { AuthCredentials } from './auth-credentials.js';

export interface ServerSecurity {
  /** Present when the listeners serve TLS. */
  readonly tls?: TlsReloader;
  /** Present when credentials or access lists are configured. */
  readonly guard?: Koa.Middleware;
  /** The access lists, for the gRPC listener's interceptor. */
  readonly policy?: AccessPolicy;
  /** Bearer and basic credentials, for the gRPC listener's interceptor. */
  readonly credentials?: AuthCredentials;
  /** Stops watching files and SIGHUP. */
  close(): void;
}

export type SecurityLog = (level: 'info' | 'error', message: string) => void;

export const logToStderr: SecurityLog = (level, message) =>
  process.stderr.write(`${JSON.stringify({ level, msg: message })}\n`);

export async function openServerSecurity(
  server: Config['server'],
  log: SecurityLog = logToStderr,
  watch: FileWatchOptions = {},
): Promise<ServerSecurity> {
  const tlsConfig = server.tls;
  if (tlsConfig !== undefined && tlsConfig.caFile === undefined && (tlsConfig.allowedReaders !== undefined || tlsConfig.allowedWriters !== undefined)) {
    // Without a CA no client certificate is ever verified, so every listed class would be closed to all.
    throw badData('TLS: allowed_writers and allowed_readers need ca_file to verify client certificates against');
  }
  const tls = tlsConfig === undefined ? undefined : await TlsReloader.open(tlsConfig, { ...watch, log });
  let credentials: AuthCredentials | undefined;
  try {
    const auth = server.auth;
    if (auth !== undefined && (auth.bearerTokenFile !== undefined || auth.basicAuthUsersFile !== undefined)) {
      credentials = await AuthCredentials.open(auth, { ...watch, log });
    }
    const lists: AccessLists = tlsConfig ?? {};
    const policy =
      lists.allowedReaders !== undefined || lists.allowedWriters !== undefined
        ? new AccessPolicy({
            ...(lists.allowedReaders === undefined ? {} : { allowedReaders: lists.allowedReaders }),
            ...(lists.allowedWriters === undefined ? {} : { allowedWriters: lists.allowedWriters }),
          })
        : undefined;
    const guard =
      policy === undefined && credentials === undefined
        ? undefined
        : accessGuard({ ...(policy === undefined ? {} : { policy }), ...(credentials === undefined ? {} : { credentials }) });
    const opened = credentials;
    return {
      ...(tls === undefined ? {} : { tls }),
      ...(guard === undefined ? {} : { guard }),
      ...(policy === undefined ? {} : { policy }),
      ...(opened === undefined ? {} : { credentials: opened }),
      close: () => {
        tls?.close();
        opened?.close();
      },
    };
  } catch (err) {
    tls?.close();
    credentials?.close();
    throw err;
  }
}

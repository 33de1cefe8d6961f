import { Server, status, type handleUnaryCall, type ServerErrorResponse } from '@grpc/grpc-js';
import { DevStore, namespaceIsValid, type NamespaceMode } from './dev-store.js';
import { errorMessage } from './errors.js';
import {
  KvCasService,
  KvRawService,
  type KvCasServer,
  type KvRawServer,
  type ScanResponse,
} from './generated/flaredb/kvrpc.js';
import { serverCredentials, type ServerTlsFiles } from './tls.js';

export type { NamespaceMode } from './dev-store.js';

export interface DevServerOptions {
  /** host:port to listen on; port 0 picks a free one (default 127.0.0.1:0). */
  readonly address?: string;
  /** Where the data lives; without it, a temporary directory removed on close. */
  readonly dataDir?: string;
  /** Mode of each named namespace; an empty name is `default`. */
  readonly namespaces?: Readonly<Record<string, NamespaceMode>>;
  /** Mode of namespaces not listed in `namespaces`, created on first use (default strong). */
  readonly defaultMode?: NamespaceMode;
  readonly tls?: ServerTlsFiles;
  /** Flush each write to disk before answering (default true); off makes tests faster. */
  readonly sync?: boolean;
}

export interface DevServer {
  /** host:port it listens on, with the real port. */
  readonly address: string;
  readonly port: number;
  /** Stops accepting calls, cancels calls in progress and closes the store. */
  close(): Promise<void>;
}

const DEFAULT_NAMESPACE = 'default';
const DEFAULT_SCAN_LIMIT = 100;
/** A scan page ends early past this many key and value bytes, well inside gRPC's 4 MiB message limit. */
const MAX_PAGE_BYTES = 2 * 1024 * 1024;
/** LMDB's longest key with its default page size, less the namespace prefix. */
const MAX_KEY_BYTES = 1978 - 256;
const EMPTY = Buffer.alloc(0);

class CallError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A kvrpc server for tests and local development: one process, one LMDB store, no replication.
 * It follows FlareDB's request/response semantics (namespaces and their modes, versions, scan
 * paging) so the client and the flaredb storage backend can be tested without a FlareDB cluster.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const modes = new Map<string, NamespaceMode>();
  for (const [name, mode] of Object.entries(options.namespaces ?? {})) modes.set(name === '' ? DEFAULT_NAMESPACE : name, mode);
  const defaultMode = options.defaultMode ?? 'strong';
  const store = await DevStore.open(options.dataDir, options.sync ?? true);

  const namespaceFor = (requested: string, want: NamespaceMode, method: string): string => {
    const name = requested === '' ? DEFAULT_NAMESPACE : requested;
    if (!namespaceIsValid(name)) throw new CallError(status.INVALID_ARGUMENT, `${method}: namespace name too long`);
    const mode = modes.get(name) ?? defaultMode;
    if (mode !== want) {
      const service = want === 'strong' ? 'KvCas' : 'KvRaw';
      throw new CallError(status.FAILED_PRECONDITION, `${method}: namespace ${JSON.stringify(name)} is ${mode}; ${service} serves ${want} namespaces`);
    }
    return name;
  };

  const raw: KvRawServer = {
    rawPut: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'eventual', 'RawPut');
      await store.rawPut(ns, checkKey(req.key, 'RawPut'), req.value);
      return { success: true };
    }),
    rawGet: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'eventual', 'RawGet');
      const found = store.get(ns, 'eventual', checkKey(req.key, 'RawGet'));
      return found === null ? { found: false, value: EMPTY } : { found: true, value: found.value };
    }),
    rawScan: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'eventual', 'RawScan');
      const page = store.scan(ns, 'eventual', req.startKey, req.endKey, req.limit === 0 ? DEFAULT_SCAN_LIMIT : req.limit, MAX_PAGE_BYTES);
      return {
        keys: page.entries.map((e) => e.key),
        values: page.entries.map((e) => e.value),
        hasMore: page.nextKey !== undefined,
        nextKey: page.nextKey ?? EMPTY,
      };
    }),
    rawDelete: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'eventual', 'RawDelete');
      const existed = await store.rawDelete(ns, checkKey(req.key, 'RawDelete'));
      return { success: true, existed };
    }),
  };

  const cas: KvCasServer = {
    compareAndSwap: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'strong', 'CompareAndSwap');
      return store.compareAndSwap(ns, checkKey(req.key, 'CompareAndSwap'), req.value, req.expectedVersion);
    }),
    get: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'strong', 'Get');
      const found = store.get(ns, 'strong', checkKey(req.key, 'Get'));
      return found === null ? { found: false, value: EMPTY, version: 0 } : { found: true, value: found.value, version: found.version };
    }),
    scan: unary(async (req): Promise<ScanResponse> => {
      const ns = namespaceFor(req.namespace, 'strong', 'Scan');
      const page = store.scan(ns, 'strong', req.startKey, req.endKey, req.limit === 0 ? DEFAULT_SCAN_LIMIT : req.limit, MAX_PAGE_BYTES);
      return {
        keys: page.entries.map((e) => e.key),
        values: page.entries.map((e) => e.value),
        versions: page.entries.map((e) => e.version),
        hasMore: page.nextKey !== undefined,
        nextKey: page.nextKey ?? EMPTY,
      };
    }),
    delete: unary(async (req) => {
      const ns = namespaceFor(req.namespace, 'strong', 'Delete');
      return store.versionedDelete(ns, checkKey(req.key, 'Delete'), req.expectedVersion);
    }),
  };

  const server = new Server();
  server.addService(KvRawService, raw);
  server.addService(KvCasService, cas);
  const requested = options.address ?? '127.0.0.1:0';
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(requested, serverCredentials(options.tls), (err, boundPort) => (err === null ? resolve(boundPort) : reject(err)));
    });
  } catch (err) {
    server.forceShutdown();
    await store.close();
    throw new Error(`flaredb-dev: cannot listen on ${requested}: ${errorMessage(err)}`, { cause: err });
  }
  const host = requested.slice(0, requested.lastIndexOf(':'));
  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    close: () => {
      closing ??= (async () => {
        server.forceShutdown();
        await store.close();
      })();
      return closing;
    },
  };
}

function unary<Req, Res>(handle: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handle(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const response: ServerErrorResponse =
          err instanceof CallError
            ? { name: 'CallError', message: err.message, code: err.code, details: err.message }
            : { name: 'InternalError', message: errorMessage(err), code: status.INTERNAL, details: errorMessage(err) };
        callback(response);
      },
    );
  };
}

function checkKey(key: Buffer, method: string): Buffer {
  if (key.length === 0) throw new CallError(status.INVALID_ARGUMENT, `${method}: empty key`);
  if (key.length > MAX_KEY_BYTES) throw new CallError(status.INVALID_ARGUMENT, `${method}: key longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

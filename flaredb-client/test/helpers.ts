import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, ServerCredentials, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { FlareDbError } from '../src/errors.js';
import { KvCasService, KvRawService, type KvCasServer, type KvRawServer } from '../src/generated/flaredb/kvrpc.js';

export interface FakeServer {
  readonly address: string;
  close(): void;
}

/** A kvrpc server whose handlers the test writes; methods left out answer UNIMPLEMENTED. */
export async function startFakeServer(raw: Partial<KvRawServer>, cas: Partial<KvCasServer> = {}): Promise<FakeServer> {
  const server = new Server();
  server.addService(KvRawService, withUnimplemented(KvRawService, raw));
  server.addService(KvCasService, withUnimplemented(KvCasService, cas));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err)));
  });
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

function withUnimplemented(service: object, impl: object): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const name of Object.keys(service)) {
    const given: unknown = (impl as Record<string, unknown>)[name];
    out[name] =
      typeof given === 'function'
        ? (given as UntypedServiceImplementation[string])
        : (_call: unknown, callback: (err: { code: status; details: string }) => void) =>
            callback({ code: status.UNIMPLEMENTED, details: `${name} not in this fake` });
  }
  return out;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<FlareDbError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.err instanceof FlareDbError)) throw new Error(`expected a FlareDbError, got ${String(outcome.err)}`);
  return outcome.err;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flaredb-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function bytes(...values: number[]): Buffer {
  return Buffer.from(values);
}

/** A 2-byte big-endian key, so numeric order is key order. */
export function key16(i: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(i);
  return b;
}

export function hex(b: Uint8Array | null | undefined): string | null {
  return b == null ? null : Buffer.from(b).toString('hex');
}

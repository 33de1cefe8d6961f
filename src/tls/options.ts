/** Turns the TlsConfig shape into Node TLS server options, reading and checking the files. */
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import type { TlsConfig } from '../config/config.js';
import { badData, errorMessage, MetricstorError } from '../errors.js';

/** The lowest protocol version a listener accepts. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** The bytes of a server's certificate chain, key and (optional) client CA bundle. */
export interface ServerTlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

/** A listener's TLS settings with the certificate and key it must have. */
export interface ServerTlsFiles extends TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
}

export function checkServerTlsConfig(config: ServerTlsFiles): void {
  if (config.certFile === '' || config.keyFile === '') throw badData('TLS: cert_file and key_file must both be set');
  if (config.requireClientCert === true && config.caFile === undefined) {
    throw badData('TLS: require_client_cert needs ca_file to check client certificates against');
  }
}

/**
 * Reads the files and proves they form a usable context (PEM parses, key matches certificate),
 * so a half-written file is refused here rather than at the next handshake.
 */
export async function loadServerTlsMaterial(config: ServerTlsFiles): Promise<ServerTlsMaterial> {
  checkServerTlsConfig(config);
  const [cert, key, ca] = await Promise.all([
    readTlsFile(config.certFile, 'cert_file'),
    readTlsFile(config.keyFile, 'key_file'),
    config.caFile === undefined ? undefined : readTlsFile(config.caFile, 'ca_file'),
  ]);
  const material: ServerTlsMaterial = ca === undefined ? { cert, key } : { cert, key, ca };
  try {
    tls.createSecureContext({ ...material, minVersion: MIN_TLS_VERSION });
  } catch (err) {
    throw new MetricstorError('bad_data', `TLS: ${config.certFile} / ${config.keyFile}: ${errorMessage(err)}`, { cause: err });
  }
  if (ca !== undefined && !/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(ca.toString('latin1'))) {
    throw badData(`TLS: ca_file ${config.caFile ?? ''} holds no complete PEM certificate`);
  }
  return material;
}

/** Options for https.createServer / tls.createServer: TLS 1.2 or newer, client checks as configured. */
export function serverTlsOptions(config: ServerTlsFiles, material: ServerTlsMaterial): tls.TlsOptions {
  return {
    ...material,
    minVersion: MIN_TLS_VERSION,
    // With a CA, clients are asked for a certificate; only require_client_cert makes one mandatory.
    requestCert: config.caFile !== undefined,
    rejectUnauthorized: config.requireClientCert === true,
  };
}

/** The part of the options that a running server swaps on reload (server.setSecureContext). */
export function secureContextOptions(material: ServerTlsMaterial): tls.SecureContextOptions {
  return { ...material, minVersion: MIN_TLS_VERSION };
}

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  try {
    const bytes = await readFile(file);
    if (bytes.length === 0) throw new Error('file is empty');
    return bytes;
  } catch (err) {
    throw new MetricstorError('bad_data', `TLS: cannot read ${what} ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

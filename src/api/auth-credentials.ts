/**
 * Bearer tokens and basic-auth users read from files, re-read when the files change (or on
 * SIGHUP). Secrets are compared as SHA-256 digests with timingSafeEqual.
 */
import { createHash, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AuthConfig } from '../config/config.js';
import { badData, errorMessage, MetricstorError } from '../errors.js';
import { watchFiles, type FileWatch, type FileWatchOptions } from '../tls/watch.js';

/** How a user's password is stored: `sha256:<hex>` or `scrypt:<salt hex>:<key hex>` (N=16384, r=8, p=1). */
type PasswordHash =
  | { readonly kind: 'sha256'; readonly digest: Buffer }
  | { readonly kind: 'scrypt'; readonly salt: Buffer; readonly key: Buffer };

export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;

interface Secrets {
  /** SHA-256 of each accepted token. */
  readonly tokenDigests: readonly Buffer[];
  readonly users: ReadonlyMap<string, PasswordHash>;
}

export interface AuthCredentialsOptions extends FileWatchOptions {
  readonly log?: (level: 'info' | 'error', message: string) => void;
}

export class AuthCredentials {
  private watch: FileWatch | undefined;
  /** SHA-256 of `user:password` pairs already proven, so scrypt runs once per pair and file version. */
  private provenBasic = new Set<string>();

  private constructor(
    private readonly config: AuthConfig,
    private secrets: Secrets,
    private readonly options: AuthCredentialsOptions,
  ) {}

  static async open(config: AuthConfig, options: AuthCredentialsOptions = {}): Promise<AuthCredentials> {
    const credentials = new AuthCredentials(config, await loadSecrets(config), options);
    const files = [config.bearerTokenFile, config.basicAuthUsersFile].filter((f): f is string => f !== undefined);
    credentials.watch = watchFiles(files, () => void credentials.reload(), {
      ...options,
      logError: (message) => options.log?.('error', `auth reload: ${message}`),
    });
    return credentials;
  }

  get acceptsBearer(): boolean {
    return this.config.bearerTokenFile !== undefined;
  }

  get acceptsBasic(): boolean {
    return this.config.basicAuthUsersFile !== undefined;
  }

  /** Re-reads the files; on failure the previous secrets stay in force. */
  async reload(): Promise<boolean> {
    try {
      this.secrets = await loadSecrets(this.config);
      this.provenBasic = new Set();
      this.options.log?.('info', 'auth credentials reloaded');
      return true;
    } catch (err) {
      this.options.log?.('error', `auth reload failed, keeping the previous credentials: ${errorMessage(err)}`);
      return false;
    }
  }

  verifyBearer(token: string): boolean {
    const digest = sha256(token);
    let ok = false;
    // Every entry is compared so the time taken does not tell which one matched.
    for (const known of this.secrets.tokenDigests) ok = timingSafeEqual(known, digest) || ok;
    return ok;
  }

  async verifyBasic(user: string, password: string): Promise<boolean> {
    const pairKey = sha256(`${user}:${password}`).toString('hex');
    if (this.provenBasic.has(pairKey)) return true;
    const hash = this.secrets.users.get(user);
    let ok: boolean;
    if (hash === undefined) {
      // Spend the same effort as for a known user.
      timingSafeEqual(sha256(password), sha256(''));
      ok = false;
    } else if (hash.kind === 'sha256') {
      ok = timingSafeEqual(sha256(password), hash.digest);
    } else {
      const key = await scryptAsync(password, hash.salt, hash.key.length);
      ok = timingSafeEqual(key, hash.key);
    }
    if (ok) this.provenBasic.add(pairKey);
    return ok;
  }

  /** Checks an Authorization header value (`Bearer <token>` or `Basic <base64 user:password>`). */
  async verifyAuthorization(header: string): Promise<boolean> {
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header.toLowerCase() : header.slice(0, space).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer' && this.acceptsBearer && value !== '') return this.verifyBearer(value);
    if (scheme === 'basic' && this.acceptsBasic) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon > 0 && (await this.verifyBasic(decoded.slice(0, colon), decoded.slice(colon + 1)));
    }
    return false;
  }

  /** WWW-Authenticate challenges for the schemes accepted. */
  challenges(realm: string): string[] {
    const challenges: string[] = [];
    if (this.acceptsBearer) challenges.push(`Bearer realm="${realm}"`);
    if (this.acceptsBasic) challenges.push(`Basic realm="${realm}", charset="UTF-8"`);
    return challenges;
  }

  close(): void {
    this.watch?.close();
  }
}

/** A users-file line for a password: `sha256:<hex>`, the easy form to produce with sha256sum. */
export function sha256PasswordHash(password: string): string {
  return `sha256:${sha256(password).toString('hex')}`;
}

/** A users-file value for a password: `scrypt:<salt hex>:<key hex>`. */
export async function scryptPasswordHash(password: string, salt: Buffer): Promise<string> {
  const key = await scryptAsync(password, salt, 32);
  return `scrypt:${salt.toString('hex')}:${key.toString('hex')}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function scryptAsync(password: string, salt: Buffer, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, SCRYPT_PARAMS, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

async function loadSecrets(config: AuthConfig): Promise<Secrets> {
  const tokenDigests =
    config.bearerTokenFile === undefined ? [] : parseTokens(await readSecretFile(config.bearerTokenFile, 'bearer_token_file'));
  const users =
    config.basicAuthUsersFile === undefined
      ? new Map<string, PasswordHash>()
      : parseUsers(await readSecretFile(config.basicAuthUsersFile, 'basic_auth_users_file'), config.basicAuthUsersFile);
  if (config.bearerTokenFile !== undefined && tokenDigests.length === 0) {
    throw badData(`auth: bearer_token_file ${config.bearerTokenFile} holds no token`);
  }
  return { tokenDigests, users };
}

async function readSecretFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new MetricstorError('bad_data', `auth: cannot read ${what} ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/** One token a line; blank lines and `#` comments are skipped, so tokens can be rotated with overlap. */
function parseTokens(text: string): Buffer[] {
  return meaningfulLines(text).map(({ line }) => sha256(line));
}

function parseUsers(text: string, file: string): Map<string, PasswordHash> {
  const users = new Map<string, PasswordHash>();
  for (const { line, number } of meaningfulLines(text)) {
    const where = `${file}:${number}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw badData(`auth: ${where}: want user:sha256:<hex> or user:scrypt:<salt hex>:<key hex>`);
    const user = line.slice(0, colon);
    const stored = line.slice(colon + 1);
    if (users.has(user)) throw badData(`auth: ${where}: user ${JSON.stringify(user)} appears twice`);
    users.set(user, parseHash(stored, where));
  }
  return users;
}

function parseHash(stored: string, where: string): PasswordHash {
  const hex = /^[0-9a-fA-F]+$/;
  const [kind, ...parts] = stored.split(':');
  if (kind === 'sha256' && parts.length === 1 && hex.test(parts[0]!) && parts[0]!.length === 64) {
    return { kind, digest: Buffer.from(parts[0]!, 'hex') };
  }
  if (kind === 'scrypt' && parts.length === 2 && parts.every((p) => hex.test(p) && p.length % 2 === 0 && p.length >= 16)) {
    return { kind, salt: Buffer.from(parts[0]!, 'hex'), key: Buffer.from(parts[1]!, 'hex') };
  }
  if (stored.startsWith('$2')) throw badData(`auth: ${where}: bcrypt hashes are not supported; use sha256:<hex> or scrypt:<salt>:<key>`);
  throw badData(`auth: ${where}: unknown password hash; want sha256:<64 hex> or scrypt:<salt hex>:<key hex>`);
}

function meaningfulLines(text: string): { line: string; number: number }[] {
  return text
    .split('\n')
    .map((raw, i) => ({ line: raw.trim(), number: i + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
}

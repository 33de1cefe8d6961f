import { accessSync, constants, readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { badData, errorMessage } from '../errors.js';
import type { Config } from './config.js';
import { coerce, isSection, SETTINGS, settingByFlag, settingByKey, type Setting } from './schema.js';

/** Something wrong in the configuration, with where it was found (file:line:col, env VAR, flag --x). */
export interface ConfigProblem {
  readonly where: string;
  readonly message: string;
}

export interface ConfigSources {
  /** YAML text and the name to report locations under. */
  readonly file?: { readonly name: string; readonly text: string };
  readonly env?: NodeJS.ProcessEnv;
  /** Command-line settings as parsed by parseFlags. */
  readonly flags?: readonly FlagValue[];
}

export interface FlagValue {
  readonly setting: Setting;
  readonly text: string;
}

interface Value {
  readonly value: unknown;
  readonly where: string;
}

/** Reads a YAML file from disk into a ConfigSources entry; unreadable files are bad_data. */
export function readConfigFile(name: string): { name: string; text: string } {
  try {
    return { name, text: readFileSync(name, 'utf8') };
  } catch (err) {
    throw badData(`cannot read config file ${name}: ${errorMessage(err)}`);
  }
}

/**
 * Every problem of a configuration: YAML syntax, unknown keys, wrong types, bad addresses,
 * unreadable files and settings that need each other. Empty means it would load.
 */
export function checkConfig(sources: ConfigSources): ConfigProblem[] {
  return resolve(sources).problems;
}

/** The effective Config: defaults, then the file, then the environment, then flags. */
export function loadConfig(sources: ConfigSources): Config {
  const { config, problems } = resolve(sources);
  if (problems.length > 0) throw badData(`invalid configuration:\n${problems.map(formatProblem).join('\n')}`);
  return config;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.where}: ${p.message}`;
}

function resolve(sources: ConfigSources): { config: Config; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values = new Map<string, Value>();
  for (const s of SETTINGS) if (s.default !== undefined) values.set(s.key, { value: s.default, where: 'default' });
  const set = (setting: Setting, raw: unknown, fromText: boolean, where: string): void => {
    const c = coerce(setting, raw, fromText);
    if (c.ok) values.set(setting.key, { value: c.value, where });
    else problems.push({ where, message: c.error });
  };
  if (sources.file !== undefined) readYaml(sources.file.name, sources.file.text, set, problems);
  const env = sources.env ?? {};
  for (const s of SETTINGS) {
    const text = s.env === undefined ? undefined : env[s.env];
    if (text !== undefined) set(s, text, true, `env ${s.env}`);
  }
  for (const f of sources.flags ?? []) set(f.setting, f.text, true, `flag --${f.setting.key.replaceAll('_', '-')}`);
  for (const [key, v] of values) {
    const setting = settingByKey(key)!;
    if (setting.type === 'file' && typeof v.value === 'string') {
      try {
        accessSync(v.value, constants.R_OK);
      } catch (err) {
        problems.push({ where: v.where, message: `${key}: cannot read ${v.value}: ${errorCode(err)}` });
      }
    }
  }
  checkTogether(values, problems);
  return { config: assemble(values), problems };
}

type Setter = (setting: Setting, raw: unknown, fromText: boolean, where: string) => void;

function readYaml(name: string, text: string, set: Setter, problems: ConfigProblem[]): void {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return name;
    const { line, col } = lines.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  for (const e of [...doc.errors, ...doc.warnings]) problems.push({ where: at(e.pos[0]), message: e.message.split('\n')[0]! });
  if (doc.errors.length > 0) return;
  const walk = (node: unknown, path: string): void => {
    if (!isMap(node)) {
      problems.push({ where: at(rangeStart(node)), message: `${path === '' ? 'the document' : path}: want a map of settings` });
      return;
    }
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      const keyText = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const key = path === '' ? keyText : `${path}.${keyText}`;
      const setting = settingByKey(key);
      if (setting !== undefined) {
        set(setting, toPlain(pair.value), false, at(rangeStart(pair.value) ?? rangeStart(pair.key)));
      } else if (isSection(key)) {
        if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue; // an empty section
        walk(pair.value, key);
      } else {
        problems.push({ where: at(rangeStart(pair.key)), message: `unknown setting ${key}` });
      }
    }
  };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return; // an empty file
  walk(doc.contents, '');
}

function rangeStart(node: unknown): number | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node)) return (node as Node).range?.[0];
  return undefined;
}

function toPlain(node: unknown): unknown {
  if (isScalar(node) || isMap(node) || isSeq(node)) return (node as Node).toJSON();
  return node;
}

function errorCode(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return errorMessage(err);
}

/** Rules that span settings. */
function checkTogether(values: ReadonlyMap<string, Value>, problems: ConfigProblem[]): void {
  const has = (key: string): boolean => values.has(key);
  const where = (key: string): string => values.get(key)?.where ?? 'config';
  if (has('server.tls.cert_file') !== has('server.tls.key_file')) {
    const present = has('server.tls.cert_file') ? 'server.tls.cert_file' : 'server.tls.key_file';
    problems.push({ where: where(present), message: 'server.tls.cert_file and server.tls.key_file go together' });
  }
  if (!has('server.tls.cert_file')) {
    for (const key of ['server.tls.ca_file', 'server.tls.require_client_cert', 'server.tls.allowed_writers', 'server.tls.allowed_readers']) {
      if (has(key)) problems.push({ where: where(key), message: `${key} needs server.tls.cert_file and server.tls.key_file` });
    }
  }
  if (values.get('server.tls.require_client_cert')?.value === true && !has('server.tls.ca_file')) {
    problems.push({ where: where('server.tls.require_client_cert'), message: 'server.tls.require_client_cert needs server.tls.ca_file' });
  }
  if (has('storage.flaredb.tls.cert_file') !== has('storage.flaredb.tls.key_file')) {
    problems.push({ where: where(has('storage.flaredb.tls.cert_file') ? 'storage.flaredb.tls.cert_file' : 'storage.flaredb.tls.key_file'), message: 'storage.flaredb.tls.cert_file and key_file go together' });
  }
  if (has('storage.flaredb.tls.cert_file') && !has('storage.flaredb.tls.ca_file')) {
    problems.push({ where: where('storage.flaredb.tls.cert_file'), message: 'TLS towards FlareDB needs storage.flaredb.tls.ca_file' });
  }
  if ((has('server.tls.allowed_writers') || has('server.tls.allowed_readers')) && has('server.tls.cert_file') && !has('server.tls.ca_file')) {
    const key = has('server.tls.allowed_writers') ? 'server.tls.allowed_writers' : 'server.tls.allowed_readers';
    problems.push({ where: where(key), message: `${key} needs server.tls.ca_file to verify client certificates against` });
  }
  if (values.get('storage.flaredb.consistency')?.value === 'eventual' && !has('storage.flaredb.lease_namespace')) {
    problems.push({ where: where('storage.flaredb.consistency'), message: 'storage.flaredb.consistency eventual needs storage.flaredb.lease_namespace' });
  }
  if (values.get('storage.backend')?.value === 'flaredb' && !has('storage.flaredb.endpoints')) {
    problems.push({ where: where('storage.backend'), message: 'storage.backend flaredb needs storage.flaredb.endpoints' });
  }
}

/** Builds the nested Config from the settings' field paths; optional sections appear only when set. */
function assemble(values: ReadonlyMap<string, Value>): Config {
  const root: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const v = values.get(s.key);
    if (v === undefined) continue;
    const parts = s.field.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else {
        const created: Record<string, unknown> = {};
        node[part] = created;
        node = created;
      }
    }
    node[parts.at(-1)!] = v.value;
  }
  // Every required field has a default in SETTINGS and every value passed coerce(): the shape holds.
  return root as unknown as Config;
}

/**
 * Splits command-line arguments into `--config FILE`, setting flags (`--server.http-addr X` or
 * `--server.http-addr=X`; a boolean flag not followed by true or false means true) and the rest. Unknown flags are problems.
 */
export function parseFlags(args: readonly string[]): {
  configFile?: string;
  flags: FlagValue[];
  positional: string[];
  problems: ConfigProblem[];
} {
  const flags: FlagValue[] = [];
  const positional: string[] = [];
  const problems: ConfigProblem[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const setting = settingByFlag(name);
    if (name !== '--config' && setting === undefined) {
      problems.push({ where: `flag ${name}`, message: 'unknown flag' });
      continue;
    }
    let text = inline;
    if (text === undefined) {
      const next = args[i + 1];
      const bareBoolean = setting?.type === 'boolean' && next !== 'true' && next !== 'false';
      if (bareBoolean) text = 'true';
      else if (next === undefined) {
        problems.push({ where: `flag ${name}`, message: 'needs a value' });
        continue;
      } else {
        text = next;
        i++;
      }
    }
    if (setting === undefined) configFile = text;
    else flags.push({ setting, text });
  }
  return { ...(configFile === undefined ? {} : { configFile }), flags, positional, problems };
}

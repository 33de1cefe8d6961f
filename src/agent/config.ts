/**
 * The agent's own YAML file (`metricstor agent --config agent.yaml`), shaped like Prometheus's
 * scrape_configs and remote_write sections so existing scrape configurations carry over. Unknown
 * keys and wrong types are errors naming their path, as in the server's config loader.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { TlsConfig } from '../config/config.js';
import { parseDurationMs } from '../config/duration.js';
import { parseHostPort } from '../config/host-port.js';
import { badData, errorMessage } from '../errors.js';
import { isValidLabelName, type Label } from '../model/labels.js';
import { relabelRule, type CompiledRelabelRule, type RelabelRule } from './relabel.js';

export interface StaticConfig {
  readonly targets: readonly string[];
  readonly labels: readonly Label[];
}

export interface FileSdConfig {
  /** Paths (relative ones resolved against the config file's folder); `*` globs in the last part. */
  readonly files: readonly string[];
  /** Files are also re-read at this interval even when no change was seen. */
  readonly refreshIntervalMs: number;
}

/** Client TLS towards a target or a receiver: CA to check the server, cert/key to present (mTLS). */
export interface ClientTlsConfig extends TlsConfig {
  readonly serverName?: string;
  readonly insecureSkipVerify?: boolean;
}

export interface ScrapeConfig {
  readonly jobName: string;
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly tls?: ClientTlsConfig;
  readonly staticConfigs: readonly StaticConfig[];
  readonly fileSdConfigs: readonly FileSdConfig[];
  readonly relabelConfigs: readonly CompiledRelabelRule[];
  readonly metricRelabelConfigs: readonly CompiledRelabelRule[];
}

export interface QueueConfig {
  /** Most samples waiting per remote; beyond it new samples are dropped (reason queue_full). */
  readonly capacity: number;
  readonly maxShards: number;
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface RemoteWriteConfig {
  readonly url: string;
  readonly name: string;
  readonly remoteTimeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly tls?: ClientTlsConfig;
  readonly queue: QueueConfig;
}

export interface AgentConfig {
  /** host:port of the agent's own /metrics listener; empty = none. */
  readonly listenAddr: string;
  /** When set, queued samples are kept here across restarts. */
  readonly queueDir?: string;
  readonly scrapeConfigs: readonly ScrapeConfig[];
  readonly remoteWrite: readonly RemoteWriteConfig[];
}

export const DEFAULT_QUEUE: QueueConfig = {
  capacity: 100_000,
  maxShards: 4,
  maxSamplesPerSend: 2000,
  batchSendDeadlineMs: 5000,
  minBackoffMs: 30,
  maxBackoffMs: 5000,
};

type Obj = Readonly<Record<string, unknown>>;

/** Reads and checks an agent config file; errors are bad_data naming the file and the key. */
export function loadAgentConfigFile(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw badData(`agent config ${file}: ${errorMessage(err)}`);
  }
  return parseAgentConfig(text, path.dirname(path.resolve(file)), file);
}

/** Parses agent config YAML; relative file paths are resolved against baseDir. */
export function parseAgentConfig(text: string, baseDir: string, sourceName = 'agent config'): AgentConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text) ?? {};
  } catch (err) {
    throw badData(`${sourceName}: ${errorMessage(err)}`);
  }
  try {
    return new Reader(baseDir).agent(doc);
  } catch (err) {
    throw badData(`${sourceName}: ${errorMessage(err)}`);
  }
}

class Reader {
  constructor(private readonly baseDir: string) {}

  agent(doc: unknown): AgentConfig {
    const o = obj(doc, '', ['global', 'listen_addr', 'queue_dir', 'scrape_configs', 'remote_write']);
    const g = obj(o['global'] ?? {}, 'global', ['scrape_interval', 'scrape_timeout']);
    const globalInterval = duration(g['scrape_interval'], 'global.scrape_interval', 60_000);
    const globalTimeout = duration(g['scrape_timeout'], 'global.scrape_timeout', Math.min(10_000, globalInterval));
    const listenAddr = str(o['listen_addr'], 'listen_addr', '');
    if (listenAddr !== '') parseHostPort(listenAddr);
    const queueDir = o['queue_dir'] === undefined ? undefined : this.file(str(o['queue_dir'], 'queue_dir', ''));
    const scrapeConfigs = list(o['scrape_configs'], 'scrape_configs').map((sc, i) =>
      this.scrape(sc, `scrape_configs[${i}]`, globalInterval, globalTimeout),
    );
    const names = new Set<string>();
    for (const sc of scrapeConfigs) {
      if (names.has(sc.jobName)) throw new Error(`scrape_configs: job_name ${JSON.stringify(sc.jobName)} appears twice`);
      names.add(sc.jobName);
    }
    const remoteWrite = list(o['remote_write'], 'remote_write').map((rw, i) => this.remote(rw, `remote_write[${i}]`));
    return { listenAddr, ...(queueDir === undefined ? {} : { queueDir }), scrapeConfigs, remoteWrite };
  }

  private scrape(v: unknown, at: string, globalInterval: number, globalTimeout: number): ScrapeConfig {
    const o = obj(v, at, [
      'job_name', 'scrape_interval', 'scrape_timeout', 'metrics_path', 'scheme', 'params', 'honor_labels',
      'honor_timestamps', 'tls_config', 'static_configs', 'file_sd_configs', 'relabel_configs', 'metric_relabel_configs',
    ]);
    const jobName = str(o['job_name'], `${at}.job_name`, '');
    if (jobName === '') throw new Error(`${at}.job_name must be set`);
    const scrapeIntervalMs = duration(o['scrape_interval'], `${at}.scrape_interval`, globalInterval);
    const scrapeTimeoutMs = duration(o['scrape_timeout'], `${at}.scrape_timeout`, Math.min(globalTimeout, scrapeIntervalMs));
    if (scrapeTimeoutMs > scrapeIntervalMs) throw new Error(`${at}: scrape_timeout is greater than scrape_interval`);
    const scheme = str(o['scheme'], `${at}.scheme`, 'http');
    if (scheme !== 'http' && scheme !== 'https') throw new Error(`${at}.scheme must be http or https`);
    const params: Record<string, string[]> = {};
    for (const [k, pv] of Object.entries(obj(o['params'] ?? {}, `${at}.params`))) {
      params[k] = list(pv, `${at}.params.${k}`).map((x, i) => str(x, `${at}.params.${k}[${i}]`, ''));
    }
    const tls = o['tls_config'] === undefined ? undefined : this.tls(o['tls_config'], `${at}.tls_config`);
    return {
      jobName,
      scrapeIntervalMs,
      scrapeTimeoutMs,
      metricsPath: str(o['metrics_path'], `${at}.metrics_path`, '/metrics'),
      scheme,
      params,
      honorLabels: bool(o['honor_labels'], `${at}.honor_labels`, false),
      honorTimestamps: bool(o['honor_timestamps'], `${at}.honor_timestamps`, true),
      ...(tls === undefined ? {} : { tls }),
      staticConfigs: list(o['static_configs'], `${at}.static_configs`).map((s, i) => staticConfig(s, `${at}.static_configs[${i}]`)),
      fileSdConfigs: list(o['file_sd_configs'], `${at}.file_sd_configs`).map((f, i) => this.fileSd(f, `${at}.file_sd_configs[${i}]`)),
      relabelConfigs: list(o['relabel_configs'], `${at}.relabel_configs`).map((r, i) => rule(r, `${at}.relabel_configs[${i}]`)),
      metricRelabelConfigs: list(o['metric_relabel_configs'], `${at}.metric_relabel_configs`).map((r, i) =>
        rule(r, `${at}.metric_relabel_configs[${i}]`),
      ),
    };
  }

  private fileSd(v: unknown, at: string): FileSdConfig {
    const o = obj(v, at, ['files', 'refresh_interval']);
    const files = list(o['files'], `${at}.files`).map((f, i) => this.file(str(f, `${at}.files[${i}]`, '')));
    if (files.length === 0) throw new Error(`${at}.files must list at least one file`);
    return { files, refreshIntervalMs: duration(o['refresh_interval'], `${at}.refresh_interval`, 300_000) };
  }

  private remote(v: unknown, at: string): RemoteWriteConfig {
    const o = obj(v, at, ['url', 'name', 'remote_timeout', 'headers', 'tls_config', 'queue_config']);
    const url = str(o['url'], `${at}.url`, '');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${at}.url ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`${at}.url must be http or https`);
    const headers: Record<string, string> = {};
    for (const [k, hv] of Object.entries(obj(o['headers'] ?? {}, `${at}.headers`))) headers[k] = str(hv, `${at}.headers.${k}`, '');
    const q = obj(o['queue_config'] ?? {}, `${at}.queue_config`, [
      'capacity', 'max_shards', 'max_samples_per_send', 'batch_send_deadline', 'min_backoff', 'max_backoff',
    ]);
    const queue: QueueConfig = {
      capacity: int(q['capacity'], `${at}.queue_config.capacity`, DEFAULT_QUEUE.capacity),
      maxShards: int(q['max_shards'], `${at}.queue_config.max_shards`, DEFAULT_QUEUE.maxShards),
      maxSamplesPerSend: int(q['max_samples_per_send'], `${at}.queue_config.max_samples_per_send`, DEFAULT_QUEUE.maxSamplesPerSend),
      batchSendDeadlineMs: duration(q['batch_send_deadline'], `${at}.queue_config.batch_send_deadline`, DEFAULT_QUEUE.batchSendDeadlineMs),
      minBackoffMs: duration(q['min_backoff'], `${at}.queue_config.min_backoff`, DEFAULT_QUEUE.minBackoffMs),
      maxBackoffMs: duration(q['max_backoff'], `${at}.queue_config.max_backoff`, DEFAULT_QUEUE.maxBackoffMs),
    };
    if (queue.minBackoffMs > queue.maxBackoffMs) throw new Error(`${at}.queue_config: min_backoff is greater than max_backoff`);
    const tls = o['tls_config'] === undefined ? undefined : this.tls(o['tls_config'], `${at}.tls_config`);
    return {
      url,
      name: str(o['name'], `${at}.name`, parsed.host),
      remoteTimeoutMs: duration(o['remote_timeout'], `${at}.remote_timeout`, 30_000),
      headers,
      ...(tls === undefined ? {} : { tls }),
      queue,
    };
  }

  private tls(v: unknown, at: string): ClientTlsConfig {
    const o = obj(v, at, ['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify']);
    const out: { -readonly [K in keyof ClientTlsConfig]: ClientTlsConfig[K] } = {};
    if (o['ca_file'] !== undefined) out.caFile = this.file(str(o['ca_file'], `${at}.ca_file`, ''));
    if (o['cert_file'] !== undefined) out.certFile = this.file(str(o['cert_file'], `${at}.cert_file`, ''));
    if (o['key_file'] !== undefined) out.keyFile = this.file(str(o['key_file'], `${at}.key_file`, ''));
    if ((out.certFile === undefined) !== (out.keyFile === undefined)) throw new Error(`${at}: cert_file and key_file go together`);
    if (o['server_name'] !== undefined) out.serverName = str(o['server_name'], `${at}.server_name`, '');
    if (o['insecure_skip_verify'] !== undefined) out.insecureSkipVerify = bool(o['insecure_skip_verify'], `${at}.insecure_skip_verify`, false);
    return out;
  }

  private file(p: string): string {
    return path.resolve(this.baseDir, p);
  }
}

function staticConfig(v: unknown, at: string): StaticConfig {
  const o = obj(v, at, ['targets', 'labels']);
  return {
    targets: list(o['targets'], `${at}.targets`).map((t, i) => str(t, `${at}.targets[${i}]`, '')),
    labels: labelMap(o['labels'] ?? {}, `${at}.labels`),
  };
}

/** A `labels:` map of a static config or a file_sd group. */
export function labelMap(v: unknown, at: string): Label[] {
  return Object.entries(obj(v, at)).map(([name, value]) => {
    if (!isValidLabelName(name)) throw new Error(`${at}: ${JSON.stringify(name)} is not a valid label name`);
    return { name, value: str(value, `${at}.${name}`, '') };
  });
}

function rule(v: unknown, at: string): CompiledRelabelRule {
  const o = obj(v, at, ['source_labels', 'separator', 'regex', 'target_label', 'replacement', 'action']);
  const raw: { -readonly [K in keyof RelabelRule]?: RelabelRule[K] } = {};
  if (o['source_labels'] !== undefined) raw.sourceLabels = list(o['source_labels'], `${at}.source_labels`).map((s, i) => str(s, `${at}.source_labels[${i}]`, ''));
  if (o['separator'] !== undefined) raw.separator = str(o['separator'], `${at}.separator`, ';');
  if (o['regex'] !== undefined) raw.regex = str(o['regex'], `${at}.regex`, '');
  if (o['target_label'] !== undefined) raw.targetLabel = str(o['target_label'], `${at}.target_label`, '');
  if (o['replacement'] !== undefined) raw.replacement = str(o['replacement'], `${at}.replacement`, '');
  if (o['action'] !== undefined) raw.action = str(o['action'], `${at}.action`, '') as RelabelRule['action'];
  try {
    return relabelRule(raw);
  } catch (err) {
    throw new Error(`${at}: ${errorMessage(err)}`);
  }
}

function obj(v: unknown, at: string, known?: readonly string[]): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${at || 'top level'} must be a mapping`);
  const o = v as Obj;
  if (known !== undefined) {
    for (const k of Object.keys(o)) if (!known.includes(k)) throw new Error(`${at === '' ? k : `${at}.${k}`}: unknown key`);
  }
  return o;
}

function list(v: unknown, at: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${at} must be a list`);
  return v;
}

function str(v: unknown, at: string, dflt: string): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${at} must be a string`);
}

function bool(v: unknown, at: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${at} must be true or false`);
  return v;
}

function int(v: unknown, at: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`${at} must be a positive integer`);
  return v;
}

function duration(v: unknown, at: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const ms = typeof v === 'string' ? parseDurationMs(v) : undefined;
  if (ms === undefined) throw new Error(`${at}: ${JSON.stringify(v)} is not a duration such as 15s or 1m`);
  return ms;
}

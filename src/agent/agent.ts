/**
 * The running agent: remote writers, the scrape manager feeding them, and a small HTTP listener
 * with the agent's own /metrics and /-/healthy.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../config/host-port.js';
import { badData, errorMessage } from '../errors.js';
import type { AgentConfig, ClientTlsConfig } from './config.js';
import { AgentMetrics } from './metrics.js';
import { remoteClient } from './remote-client.js';
import { RemoteWriter } from './remote-writer.js';
import type { SampleBatch } from './samples.js';
import type { ClientTlsMaterial } from './scrape-http.js';
import { ScrapeManager } from './scrape-manager.js';

export interface AgentOptions {
  readonly log?: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
  /** How often file_sd files are checked for changes. */
  readonly fileSdPollMs?: number;
  /** How long stop() keeps sending queued samples before spilling or dropping them. */
  readonly flushTimeoutMs?: number;
}

export interface RunningAgent {
  readonly metrics: AgentMetrics;
  readonly writers: readonly RemoteWriter[];
  readonly manager: ScrapeManager;
  /** Base URL of the /metrics listener, when listen_addr is set. */
  readonly url: string | undefined;
  stop(): Promise<void>;
}

export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<RunningAgent> {
  if (config.remoteWrite.length === 0) throw badData('agent config: remote_write lists no receiver');
  const log = options.log ?? (() => undefined);
  const metrics = new AgentMetrics();
  const writers: RemoteWriter[] = [];
  for (const rw of config.remoteWrite) {
    const tls = rw.tls === undefined ? undefined : await loadClientTls(rw.tls);
    writers.push(
      new RemoteWriter({
        config: rw,
        client: remoteClient(rw.url, rw.remoteTimeoutMs, rw.headers, tls),
        metrics,
        ...(config.queueDir === undefined ? {} : { queueDir: config.queueDir }),
        log: (msg, fields) => log('warn', msg, fields),
      }),
    );
  }
  const tlsByJob = new Map<string, ClientTlsMaterial>();
  for (const sc of config.scrapeConfigs) if (sc.tls !== undefined) tlsByJob.set(sc.jobName, await loadClientTls(sc.tls));
  await Promise.all(writers.map((w) => w.start()));
  const sink = { append: (batch: SampleBatch) => writers.forEach((w) => w.append(batch)) };
  const manager = new ScrapeManager(config.scrapeConfigs, {
    sink,
    metrics,
    tls: tlsByJob,
    ...(options.fileSdPollMs === undefined ? {} : { fileSdPollMs: options.fileSdPollMs }),
    log: (msg, fields) => log('warn', msg, fields),
  });
  manager.start();
  let server: http.Server | undefined;
  let url: string | undefined;
  if (config.listenAddr !== '') {
    const { host, port } = parseHostPort(config.listenAddr);
    server = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            res.writeHead(500);
            res.end(errorMessage(err));
          },
        );
      } else if (req.url === '/-/healthy' || req.url === '/-/ready') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK\n');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, host, resolve);
    });
    const addr = server.address() as AddressInfo;
    url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }
  log('info', 'agent started', { jobs: config.scrapeConfigs.length, remotes: writers.length, metrics: url });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await manager.stop();
      await Promise.all(writers.map((w) => w.close(options.flushTimeoutMs ?? 5000)));
      if (server !== undefined) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    })();
    return stopped;
  };
  return { metrics, writers, manager, url, stop };
}

async function loadClientTls(config: ClientTlsConfig): Promise<ClientTlsMaterial> {
  const read = async (file: string | undefined, what: string): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw badData(`TLS ${what} ${file}: ${errorMessage(err)}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read(config.caFile, 'ca_file'), read(config.certFile, 'cert_file'), read(config.keyFile, 'key_file')]);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(config.serverName === undefined ? {} : { serverName: config.serverName }),
    ...(config.insecureSkipVerify === undefined ? {} : { insecureSkipVerify: config.insecureSkipVerify }),
  };
}

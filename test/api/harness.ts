/** Starts the API on a free 127.0.0.1 port with the given parts and fetches from it. */
import type { ApiDeps } from '../../src/api/deps.js';
import { buildApp, listen, type HttpServer } from '../../src/api/server.js';

export const TEST_INFO = {
  version: '2.42.0',
  revision: 'test',
  startTimeMs: Date.UTC(2024, 0, 1),
  configYaml: 'server:\n  httpAddr: 127.0.0.1:0\n',
  flags: { 'query.lookback-delta': '5m' },
  storageRetention: '15d',
};

export class TestApi {
  private constructor(
    private readonly server: HttpServer,
    readonly base: string,
  ) {}

  static async start(deps: ApiDeps): Promise<TestApi> {
    const server = await listen(buildApp(deps), '127.0.0.1:0');
    return new TestApi(server, `http://${server.address}`);
  }

  get(path: string, init?: RequestInit): Promise<Response> {
    return fetch(this.base + path, init);
  }

  /** POSTs form-encoded parameters, as Grafana and promtool do. */
  postForm(path: string, form: string | URLSearchParams): Promise<Response> {
    return fetch(this.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: String(form),
    });
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export interface Envelope {
  status: 'success' | 'error';
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

/** The response's status and its body parsed as the Prometheus envelope. */
export async function envelope(res: Response): Promise<{ status: number; body: Envelope }> {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Envelope };
}

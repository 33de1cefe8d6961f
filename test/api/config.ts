import { DEFAULT_CONFIG, type Config } from '../../src/config/config.js';

/** The default configuration on a free 127.0.0.1 port with its data in dataDir. */
export function testConfig(dataDir: string, overrides: Partial<Config['query']> = {}): Config {
  return {
    ...DEFAULT_CONFIG,
    server: { ...DEFAULT_CONFIG.server, httpAddr: '127.0.0.1:0', grpcAddr: '127.0.0.1:0', logLevel: 'warn' },
    storage: { ...DEFAULT_CONFIG.storage, dataDir },
    query: { ...DEFAULT_CONFIG.query, ...overrides },
  };
}

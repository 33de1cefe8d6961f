import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error'): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level,
    nowMs: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    write: (line) => {
      expect(line.endsWith('\n')).to.equal(true);
      expect(line.indexOf('\n')).to.equal(line.length - 1);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { lines, logger };
}

describe('logger', () => {
  it('writes one JSON object a line with ts, level, msg and the fields', () => {
    const { lines, logger } = capture('info');
    logger.info('listening', { http: '127.0.0.1:9101', grpc: '127.0.0.1:9102' });
    expect(lines).to.deep.equal([{ ts: '2026-01-02T03:04:05.006Z', level: 'info', msg: 'listening', http: '127.0.0.1:9101', grpc: '127.0.0.1:9102' }]);
  });

  it('drops events below the configured level', () => {
    const { lines, logger } = capture('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => l['level'])).to.deep.equal(['warn', 'error']);
  });

  it('adds bound fields, renders errors and big integers, and keeps its own keys', () => {
    const { lines, logger } = capture('debug');
    logger.with({ component: 'maintenance' }).error('failed', { error: new MetricstorError('unavailable', 'kv down'), writer: 5n, msg: 'spoof' });
    expect(lines).to.deep.equal([
      { ts: '2026-01-02T03:04:05.006Z', level: 'error', msg: 'failed', component: 'maintenance', error: { message: 'kv down', type: 'unavailable' }, writer: '5' },
    ]);
  });
});

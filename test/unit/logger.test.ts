import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, describeError } from '../../src/log/logger.ts';
import type { Logger } from '../../src/log/logger.ts';
import type { LogLevel } from '../../src/config.ts';

const NOW = new Date('2025-01-15T10:00:00.123Z');

function sink(level: LogLevel): { logger: Logger; chunks: string[]; records: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = createLogger({ level, write: (line) => chunks.push(line), now: () => NOW });
  const records = (): Record<string, unknown>[] =>
    chunks.map((chunk) => {
      const parsed: unknown = JSON.parse(chunk);
      assert.equal(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), true);
      return parsed as Record<string, unknown>;
    });
  return { logger, chunks, records };
}

test('each write is exactly one JSON object on one line', () => {
  const { logger, chunks } = sink('debug');
  logger.info('hello', { note: 'multi\nline "quoted"' });
  logger.line('info', { request_id: 'r1', method: 'GET', path: '/x', status: 200, latency_ms: 1.23 });
  assert.equal(chunks.length, 2);
  for (const chunk of chunks) {
    assert.equal(chunk.endsWith('\n'), true);
    assert.equal(chunk.indexOf('\n'), chunk.length - 1, 'no newline inside the line');
    JSON.parse(chunk);
  }
});

test('ts comes first, then level', () => {
  const { logger, records } = sink('debug');
  logger.info('started', { port: 8000 });
  logger.line('warn', { request_id: 'r1', status: 404 });
  const [first, second] = records();
  assert.deepEqual(Object.keys(first ?? {}), ['ts', 'level', 'msg', 'port']);
  assert.deepEqual(first, { ts: '2025-01-15T10:00:00.123Z', level: 'info', msg: 'started', port: 8000 });
  assert.deepEqual(Object.keys(second ?? {}), ['ts', 'level', 'request_id', 'status']);
  assert.deepEqual(second, { ts: '2025-01-15T10:00:00.123Z', level: 'warn', request_id: 'r1', status: 404 });
});

test('ts is ISO-8601 from the injected clock', () => {
  const { logger, records } = sink('info');
  logger.info('x');
  assert.equal(records()[0]?.['ts'], '2025-01-15T10:00:00.123Z');
});

test('LOG_LEVEL warn drops debug and info, keeps warn and error', () => {
  const { logger, records } = sink('warn');
  logger.debug('d');
  logger.info('i');
  logger.line('info', { status: 200 });
  logger.warn('w');
  logger.line('warn', { status: 404 });
  logger.error('e');
  logger.line('error', { status: 503 });
  assert.deepEqual(records().map((r) => [r['level'], r['msg'] ?? r['status']]), [
    ['warn', 'w'],
    ['warn', 404],
    ['error', 'e'],
    ['error', 503],
  ]);
});

test('each level threshold', () => {
  const cases: [LogLevel, string[]][] = [
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ];
  for (const [level, expected] of cases) {
    const { logger, records } = sink(level);
    logger.debug('m');
    logger.info('m');
    logger.warn('m');
    logger.error('m');
    assert.deepEqual(records().map((r) => r['level']), expected, level);
    assert.equal(logger.level, level);
    assert.equal(logger.enabled('info'), expected.includes('info'));
  }
});

test('error() includes err with type, message and stack', () => {
  const { logger, records } = sink('info');
  const err = new TypeError('boom');
  logger.error('unexpected error', err, { request_id: 'r9' });
  const [record] = records();
  assert.equal(record?.['level'], 'error');
  assert.equal(record?.['msg'], 'unexpected error');
  assert.equal(record?.['request_id'], 'r9');
  assert.deepEqual(record?.['err'], { type: 'TypeError', message: 'boom', stack: err.stack });
  assert.equal(typeof err.stack, 'string');
  assert.deepEqual(Object.keys(record ?? {}).slice(0, 2), ['ts', 'level']);
});

test('error() without an error has no err field', () => {
  const { logger, records } = sink('info');
  logger.error('shutdown failed');
  assert.deepEqual(records(), [{ ts: '2025-01-15T10:00:00.123Z', level: 'error', msg: 'shutdown failed' }]);
});

test('non-Error throwables are described too', () => {
  assert.deepEqual(describeError('just a string'), { type: 'string', message: 'just a string' });
  assert.deepEqual(describeError(42), { type: 'number', message: '42' });
  const custom = new RangeError('out');
  assert.deepEqual(describeError(custom), { type: 'RangeError', message: 'out', stack: custom.stack });
});

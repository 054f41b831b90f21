import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBurstLog } from '../../src/log/burst.ts';
import { createLogger } from '../../src/log/logger.ts';

function setup(quietMs = 1_000): { lines: Record<string, unknown>[]; advance(ms: number): void; burst: ReturnType<typeof createBurstLog> } {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const logger = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), now: () => new Date(0) });
  const burst = createBurstLog({ logger, now: () => now, quietMs });
  return { lines, advance: (ms) => void (now += ms), burst };
}

test('a repeated failure is logged with its stack once, then counted in one summary line', () => {
  const { lines, advance, burst } = setup();
  for (let i = 0; i < 2_000; i += 1) {
    burst.failed('insert', 'storage write failed', new Error('SQLITE_FULL: database or disk is full'), { message_id: `m${i}` });
    advance(1);
  }
  assert.equal(lines.length, 1);
  const first = lines[0] ?? {};
  assert.equal(first['msg'], 'storage write failed');
  assert.equal(first['message_id'], 'm0');
  assert.match(String((first['err'] as Record<string, unknown>)['stack']), /SQLITE_FULL/);
  burst.succeeded('insert');
  assert.equal(lines.length, 2);
  const summary = lines[1] ?? {};
  assert.equal(summary['msg'], 'storage write failed (repeated)');
  assert.equal(summary['repeated'], 1_999);
  assert.equal(summary['level'], 'error');
  assert.deepEqual(summary['err'], { type: 'Error', message: 'SQLITE_FULL: database or disk is full' });
});

test('a failure after a quiet period starts a new burst (with the stack again)', () => {
  const { lines, advance, burst } = setup(1_000);
  burst.failed('insert', 'storage write failed', new Error('a'));
  advance(500);
  burst.failed('insert', 'storage write failed', new Error('a'));
  advance(1_500);
  burst.failed('insert', 'storage write failed', new Error('b'));
  assert.deepEqual(lines.map((l) => [l['msg'], l['repeated']]), [
    ['storage write failed', undefined],
    ['storage write failed (repeated)', 1],
    ['storage write failed', undefined],
  ]);
  assert.ok('stack' in (lines[2]?.['err'] as Record<string, unknown>));
});

test('kinds are separate, a burst of one failure has no summary, and flush ends every burst', () => {
  const { lines, burst } = setup();
  burst.failed('insert', 'storage write failed', new Error('w'));
  burst.failed('read', 'storage read failed', new Error('r'));
  burst.failed('read', 'storage read failed', new Error('r'));
  burst.succeeded('insert');
  assert.equal(lines.length, 2);
  burst.flush();
  assert.deepEqual(lines.map((l) => l['msg']), ['storage write failed', 'storage read failed', 'storage read failed (repeated)']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantKey, daysInMonth } from '../../src/domain/timestamp.ts';

function key(ts: string): string {
  const k = instantKey(ts);
  if (k === null) assert.fail(`${ts} should be a valid timestamp`);
  return k;
}

test('a fractional second is later than the whole second, although it sorts earlier as text', () => {
  const whole = '2025-01-15T10:00:00Z';
  const half = '2025-01-15T10:00:00.5Z';
  assert.equal(half < whole, true, 'precondition: as text the fraction sorts first');
  assert.equal(key(half) > key(whole), true);
});

test('keys are fixed width, padded to nanoseconds', () => {
  assert.equal(key('2025-01-15T10:00:00Z'), '2025-01-15T10:00:00.000000000Z');
  assert.equal(key('2025-01-15T10:00:00.5Z'), '2025-01-15T10:00:00.500000000Z');
  assert.equal(key('2025-01-15T10:00:00.000000001Z'), '2025-01-15T10:00:00.000000001Z');
});

test('equal instants with different fraction padding give equal keys', () => {
  assert.equal(key('2025-01-15T10:00:00.5Z'), key('2025-01-15T10:00:00.500Z'));
  assert.equal(key('2025-01-15T10:00:00.5Z'), key('2025-01-15T10:00:00.500000000Z'));
  assert.equal(key('2025-01-15T10:00:00Z'), key('2025-01-15T10:00:00.0Z'));
  assert.equal(key('2025-01-15T10:00:00Z'), key('2025-01-15T10:00:00.000000000Z'));
});

test('key order is instant order', () => {
  const inOrder = [
    '0001-01-01T00:00:00Z',
    '1999-12-31T23:59:59.999999999Z',
    '2025-01-15T09:59:59.9Z',
    '2025-01-15T10:00:00Z',
    '2025-01-15T10:00:00.000000001Z',
    '2025-01-15T10:00:00.09Z',
    '2025-01-15T10:00:00.1Z',
    '2025-01-15T10:00:00.5Z',
    '2025-01-15T10:00:01Z',
    '9999-12-31T23:59:59.999999999Z',
  ];
  const keys = inOrder.map(key);
  const shuffled = [keys[5], keys[0], keys[9], keys[3], keys[7], keys[1], keys[8], keys[2], keys[6], keys[4]].map(String);
  assert.deepEqual(shuffled.sort(), keys);
});

test('timestamps outside the grammar have no key', () => {
  for (const ts of ['2025-01-15T10:00:00+00:00', '2025-01-15T10:00:00z', '2025-01-15 10:00:00Z', '2025-02-29T00:00:00Z', '2025-01-15T10:00:00.1234567890Z', '']) {
    assert.equal(instantKey(ts), null, ts);
  }
});

test('daysInMonth follows the Gregorian leap-year rule', () => {
  assert.equal(daysInMonth(2024, 2), 29);
  assert.equal(daysInMonth(2025, 2), 28);
  assert.equal(daysInMonth(1900, 2), 28);
  assert.equal(daysInMonth(2000, 2), 29);
  assert.equal(daysInMonth(2025, 4), 30);
  assert.equal(daysInMonth(2025, 12), 31);
});

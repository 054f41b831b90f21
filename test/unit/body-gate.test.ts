import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBodyGate, type BodyGateOptions, type CutReason } from '../../src/http/body-gate.ts';

function setup(overrides: Partial<BodyGateOptions> = {}): { gate: ReturnType<typeof createBodyGate>; advance(ms: number): void; refused: string[] } {
  let now = 0;
  const refused: string[] = [];
  const gate = createBodyGate({ maxReaders: 3, maxBytes: 1_000, deadlineMs: 5_000, evictAfterMs: 1_000, now: () => now, onRefused: (r) => refused.push(r), ...overrides });
  return { gate, advance: (ms) => void (now += ms), refused };
}

test('admits up to maxReaders and maxBytes; a release makes room', () => {
  const { gate, refused } = setup();
  const a = gate.admit(100, () => {});
  const b = gate.admit(100, () => {});
  assert.ok(a && b && gate.admit(100, () => {}));
  assert.equal(gate.admit(100, () => {}), null, 'no fourth reader');
  a.release();
  a.release(); // twice is harmless
  assert.ok(gate.admit(100, () => {}));
  assert.equal(gate.readers, 3);
  assert.deepEqual(refused, ['full']);
  gate.stop();
});

test('reserved bytes are bounded; one body larger than the budget is read alone', () => {
  const { gate } = setup();
  const big = gate.admit(900, () => {});
  assert.ok(big);
  assert.equal(gate.admit(200, () => {}), null);
  big.release();
  const huge = gate.admit(50_000, () => {});
  assert.ok(huge, 'alone it fits (capped at the budget)');
  assert.equal(gate.reservedBytes, 1_000);
  assert.equal(gate.admit(1, () => {}), null);
  gate.stop();
});

test('when full, the oldest reader is cut once it has read for evictAfterMs; younger ones are never cut', () => {
  const { gate, advance, refused } = setup();
  const cuts: string[] = [];
  gate.admit(10, (r) => cuts.push(`first:${r}`));
  advance(600);
  gate.admit(10, (r) => cuts.push(`second:${r}`));
  gate.admit(10, (r) => cuts.push(`third:${r}`));
  assert.equal(gate.admit(10, () => {}), null, 'nobody has read for 1 s yet');
  advance(400);
  assert.ok(gate.admit(10, (r) => cuts.push(`fourth:${r}`)), 'the first is now old enough to make room');
  assert.deepEqual(cuts, ['first:evicted']);
  assert.deepEqual(refused, ['full', 'evicted']);
  gate.stop();
});

test('a body not complete by the deadline is cut by the shared sweep', async () => {
  let now = 0;
  const cuts: CutReason[] = [];
  const gate = createBodyGate({ maxReaders: 10, maxBytes: 1_000, deadlineMs: 200, evictAfterMs: 100, now: () => now });
  const ticket = gate.admit(10, (r) => cuts.push(r));
  gate.admit(10, (r) => cuts.push(r))?.release();
  assert.ok(ticket);
  now = 250;
  await new Promise((r) => setTimeout(r, 120)); // the sweep runs every deadline/4, at least 50 ms
  assert.deepEqual(cuts, ['deadline']);
  assert.equal(gate.readers, 0);
  gate.stop();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBodyGate, type BodyGateOptions, type CutReason } from '../../src/http/body-gate.ts';

function setup(overrides: Partial<BodyGateOptions> = {}): { gate: ReturnType<typeof createBodyGate>; advance(ms: number): void; refused: string[] } {
  let now = 0;
  const refused: string[] = [];
  const gate = createBodyGate({ maxReaders: 3, maxBytes: 1_000, deadlineMs: 5_000, graceMs: 100, minBytesPerSecond: 1_000, now: () => now, onRefused: (r) => refused.push(r), ...overrides });
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

test('when full, the slowest reader past its grace and under the minimum rate is cut; fast or young ones never', () => {
  const { gate, advance, refused } = setup();
  const cuts: string[] = [];
  const fast = gate.admit(10, (r) => cuts.push(`fast:${r}`));
  const dripping = gate.admit(10, (r) => cuts.push(`dripping:${r}`));
  const stalled = gate.admit(10, (r) => cuts.push(`stalled:${r}`));
  assert.ok(fast && dripping && stalled);
  assert.equal(gate.admit(10, () => {}), null, 'nobody is past the grace yet');
  advance(200);
  fast.progress(5_000); // 25,000 B/s
  dripping.progress(50); // 250 B/s
  stalled.progress(1); // 5 B/s
  assert.ok(gate.admit(10, (r) => cuts.push(`newcomer:${r}`)), 'the stalled one makes room');
  assert.ok(gate.admit(10, () => {}), 'then the dripping one');
  assert.equal(gate.admit(10, () => {}), null, 'the fast one and the young newcomers stay');
  assert.deepEqual(cuts, ['stalled:evicted', 'dripping:evicted']);
  assert.deepEqual(refused, ['full', 'evicted', 'evicted', 'full']);
  gate.stop();
});

test('a body not complete by the deadline is cut by the shared sweep', async () => {
  let now = 0;
  const cuts: CutReason[] = [];
  const gate = createBodyGate({ maxReaders: 10, maxBytes: 1_000, deadlineMs: 200, graceMs: 100, minBytesPerSecond: 1_000, now: () => now });
  const ticket = gate.admit(10, (r) => cuts.push(r));
  gate.admit(10, (r) => cuts.push(r))?.release();
  assert.ok(ticket);
  now = 250;
  await new Promise((r) => setTimeout(r, 120)); // the sweep runs every deadline/4, at least 50 ms
  assert.deepEqual(cuts, ['deadline']);
  assert.equal(gate.readers, 0);
  gate.stop();
});


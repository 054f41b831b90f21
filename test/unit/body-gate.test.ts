import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBodyGate, type BodyGateOptions, type CutReason, type Entrant } from '../../src/http/body-gate.ts';

type Fake = Entrant & { started: boolean; cuts: CutReason[]; shown: number };

function entrant(reserve = 10, shown = 0): Fake {
  const fake: Fake = {
    reserve,
    shown,
    started: false,
    cuts: [],
    buffered: () => fake.shown,
    start: () => void (fake.started = true),
    cut: (r) => void fake.cuts.push(r),
  };
  return fake;
}

function setup(overrides: Partial<BodyGateOptions> = {}): { gate: ReturnType<typeof createBodyGate>; advance(ms: number): void; refused: string[] } {
  let now = 0;
  const refused: string[] = [];
  const gate = createBodyGate({ maxActive: 2, maxReaders: 4, maxBytes: 1_000, deadlineMs: 5_000, graceMs: 100, minBytesPerSecond: 1_000, now: () => now, onRefused: (r) => refused.push(r), ...overrides });
  return { gate, advance: (ms) => void (now += ms), refused };
}

test('reads maxActive bodies at once; the rest wait, and the one with the most bytes in goes next', () => {
  const { gate, refused } = setup();
  const [a, b, c, d] = [entrant(), entrant(), entrant(10, 5), entrant(10, 500)];
  const ta = gate.admit(a);
  gate.admit(b);
  gate.admit(c);
  gate.admit(d);
  assert.deepEqual([a.started, b.started, c.started, d.started], [true, true, false, false]);
  assert.deepEqual([gate.reading, gate.waiting], [2, 2]);
  ta?.release();
  assert.equal(d.started, true, 'd has more of its body in than c');
  assert.equal(c.started, false);
  assert.ok(gate.admit(entrant()), 'a fourth may wait');
  assert.equal(gate.admit(entrant()), null, 'maxReaders reached and nobody past the grace');
  assert.deepEqual(refused, ['full']);
  gate.stop();
});

test('reserved bytes bound the readers; one body larger than the budget is read alone', () => {
  const { gate } = setup({ maxActive: 10 });
  const big = entrant(900);
  const small = entrant(200);
  const tb = gate.admit(big);
  gate.admit(small);
  assert.deepEqual([big.started, small.started], [true, false]);
  tb?.release();
  assert.equal(small.started, true);
  const huge = entrant(50_000);
  gate.admit(huge);
  assert.equal(huge.started, false, 'waits until the budget is free');
  gate.stop();
});

test('a slow reader past its grace is cut for a waiter whose bytes are there, never for one that shows nothing', () => {
  const { gate, advance, refused } = setup();
  const fast = entrant();
  const stalled = entrant();
  const tf = gate.admit(fast);
  gate.admit(stalled);
  const silent = entrant(10, 1);
  gate.admit(silent);
  advance(200);
  tf?.progress(5_000); // 25,000 B/s
  const sending = entrant(10, 2_000);
  gate.admit(sending);
  assert.deepEqual(stalled.cuts, ['evicted']);
  assert.equal(sending.started, true);
  assert.equal(silent.started, false, 'a waiter with nothing in does not cut anyone');
  assert.deepEqual(fast.cuts, []);
  assert.deepEqual(refused, ['evicted']);
  gate.stop();
});

test('when full, the waiter with the least in (past its grace) gives way to a newcomer', () => {
  const { gate, advance } = setup({ maxActive: 1, maxReaders: 3 });
  gate.admit(entrant(10, 100));
  const quiet = entrant(10, 1);
  const busy = entrant(10, 50);
  gate.admit(quiet);
  gate.admit(busy);
  advance(150);
  assert.ok(gate.admit(entrant(10, 10)));
  assert.deepEqual(quiet.cuts, ['evicted']);
  assert.deepEqual(busy.cuts, []);
  gate.stop();
});

test('a body not complete by the deadline is cut by the shared sweep, waiting or not', async () => {
  let now = 0;
  const gate = createBodyGate({ maxActive: 1, maxReaders: 10, maxBytes: 1_000, deadlineMs: 200, graceMs: 100, minBytesPerSecond: 1_000, now: () => now });
  const reading = entrant();
  const waitingOne = entrant();
  gate.admit(reading);
  gate.admit(waitingOne);
  gate.admit(entrant())?.release();
  now = 250;
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual([reading.cuts, waitingOne.cuts], [['deadline'], ['deadline']]);
  assert.deepEqual([gate.reading, gate.waiting], [0, 0]);
  gate.stop();
});

test('when full, a newcomer that is sending beats a quiet waiter even within its grace', () => {
  const { gate } = setup({ maxActive: 1, maxReaders: 2 });
  gate.admit(entrant(10, 0));
  const quiet = entrant(10, 1);
  gate.admit(quiet);
  assert.equal(gate.admit(entrant(10, 1)), null, 'another quiet one is refused');
  assert.ok(gate.admit(entrant(10, 1_000)), 'one with 1,000 bytes in takes the quiet one\'s place');
  assert.deepEqual(quiet.cuts, ['evicted']);
  gate.stop();
});

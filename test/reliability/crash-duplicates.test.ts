// At least 20 SIGKILLs of the real service under concurrent deliveries of new messages mixed with redeliveries (30 %) of ids already sent, some acknowledged, some cut off by a kill; every 200
// survives. The seed is printed; RELIABILITY_SEED replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportFigures } from '../helpers/figures.ts';
import { seedFromEnv } from '../helpers/seeded.ts';
import { runCrashCycles } from './crash-run.ts';

test('SIGKILL under load with duplicates mixed in: every acknowledged id stored once, first write kept', { timeout: 120_000 }, async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`seed ${seed} (RELIABILITY_SEED=${seed} replays it)`);
  const figures = await runCrashCycles(t, { kills: 20, duplicateRatio: 0.3, seed });
  assert.ok(figures.acknowledged > 0);
  assert.equal(figures.non_200_answers, 0);
  reportFigures(t, 'crash-duplicates', figures);
});

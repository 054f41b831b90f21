// At least 20 SIGKILLs of the real service under concurrent deliveries of new messages; every 200
// survives. The seed is printed; RELIABILITY_SEED replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportFigures } from '../helpers/figures.ts';
import { seedFromEnv } from '../helpers/seeded.ts';
import { runCrashCycles } from './crash-run.ts';

test('SIGKILL at random moments under load: every acknowledged message survives, intact, once', { timeout: 120_000 }, async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`seed ${seed} (RELIABILITY_SEED=${seed} replays it)`);
  const figures = await runCrashCycles(t, { kills: 20, duplicateRatio: 0, seed });
  assert.ok(figures.acknowledged > 0);
  assert.equal(figures.non_200_answers, 0);
  reportFigures(t, 'crash', figures);
});

// The storage threads: a worker that dies fails only the calls it was serving, and is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openChannel } from '../../src/storage/sqlite/worker-store.ts';

const CRASHING = new URL('../helpers/crashing-worker.ts', import.meta.url);

test('a worker that dies fails its pending call, and the next call after a pause gets a new worker', async (t) => {
  const opened = Date.now();
  const { channel } = await openChannel({ path: ':memory:', busyTimeoutMs: 10, role: 'reader' }, CRASHING);
  t.after(() => channel.stop());
  assert.deepEqual(await channel.call('ping', null), { ok: true, value: true });

  const crashed = await channel.call('stats', null);
  assert.equal(crashed.ok, false);
  assert.match(String(!crashed.ok && crashed.error), /exited with code 7/);

  // Replaced at most once a second, so a worker that dies at once cannot spin the CPU.
  const soon = await channel.call('ping', null);
  if (Date.now() - opened < 900) assert.equal(soon.ok, false); // (a very slow machine may already be past the pause)
  await sleep(1_100);
  assert.deepEqual(await channel.call('ping', null), { ok: true, value: true });
});

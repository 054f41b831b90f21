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

test('several reader workers: concurrent reads spread over them all answer, each from a snapshot; close stops them all', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openWorkerStore } = await import('../../src/storage/sqlite/worker-store.ts');
  const dir = mkdtempSync(join(tmpdir(), 'webhook-readers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { store } = await openWorkerStore({ path: join(dir, 'r.db'), now: () => new Date(), readers: 3 });
  const messages = Array.from({ length: 40 }, (_, i) => ({ messageId: `r-${i}`, from: '+15550000001', to: '+15550000002', ts: '2024-01-01T00:00:00Z', tsKey: '2024-01-01T00:00:00.000000000Z', text: `text ${i} kalo` }));
  assert.ok((await store.insertMany(messages)).every((r) => r.ok));
  const filter = { from: null, since: null, until: null, q: 'kalo', limit: 5, offset: 0, after: null } as const;
  const pages = await Promise.all(Array.from({ length: 12 }, () => store.list(filter)));
  for (const page of pages) assert.ok(page.ok && page.page.total === 40 && page.page.data.length === 5);
  await store.close();
});

// Faults with three replicas of the real service on one PostgreSQL database, under load: a replica
// killed with SIGKILL, the server restarted (pg_ctl restart -m fast), the server down for a while.
// Whatever happens, a 200 means the message is stored; the replicas recover by themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { havePostgres, PASSWORD, useCluster } from '../helpers/postgres.ts';
import { bodyJson, startLoad, startReplicas, storedIds, type Replica } from '../helpers/replicas.ts';
import { message } from '../helpers/service.ts';
import { messagesOf, openSse } from '../helpers/sse.ts';
import { pgQuery } from '../helpers/test-database.ts';

const cluster = useCluster();

/** Polls `check` every 25 ms until it holds (a server coming back is not an event we can await). */
async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ready = async (r: Replica): Promise<boolean> => (await r.get('/health/ready')).status === 200;

function assertNoPassword(replicas: readonly Replica[]): void {
  for (const r of replicas) {
    const output = r.output();
    assert.ok(!output.includes(PASSWORD) && !output.includes(encodeURIComponent(PASSWORD)), 'the database password is never logged');
  }
}

async function fresh(): Promise<string> {
  const pg = cluster();
  return pg.url(await pg.createDatabase(), 'sslmode=disable');
}

test('kill -9 of one replica under load: every acknowledged message is stored, the others keep serving, counts stay exact', { timeout: 180_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const url = await fresh();
  const replicas = await startReplicas(t, url, 3);
  let live: Replica[] = [...replicas];
  const load = startLoad(() => live, 'kill', 18);
  t.after(() => load.stop());
  await load.untilAcked(300);
  const victim = replicas[1];
  assert.ok(victim !== undefined);
  victim.proc.kill('SIGKILL');
  live = replicas.filter((r) => r !== victim);
  const ackedAtKill = load.acked;
  await victim.exited;
  await load.untilAcked(ackedAtKill + 300);
  const result = await load.stop();
  const stored = await storedIds(url);
  const lost = [...result.acked].filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], 'no acknowledged message is lost');
  t.diagnostic(`${result.acked.size} acknowledged, ${stored.size} stored, statuses ${JSON.stringify([...result.statuses])}`);
  for (const r of live) {
    const stats = bodyJson(await r.get('/stats'));
    assert.equal(stats.total_messages, stored.size, '/stats counts every stored row, those of the killed replica included');
  }
  assertNoPassword(replicas);
});

test('pg_ctl restart -m fast under load: 503s but never a 200 for an unstored message, readiness 503 meanwhile, recovery without restarting the service', { timeout: 240_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const url = await fresh();
  const replicas = await startReplicas(t, url, 3);
  const pids = replicas.map((r) => r.proc.pid);
  const load = startLoad(() => replicas, 'restart', 18);
  t.after(() => load.stop());
  await load.untilAcked(200);

  let polling = true;
  const notReady = new Set<string>();
  const watch = (async () => {
    while (polling) {
      for (const r of replicas) {
        const answer = await r.get('/health/ready');
        if (answer.status === 503) notReady.add(JSON.stringify(bodyJson(answer).reasons));
      }
    }
  })();
  const ackedBefore = load.acked;
  await cluster().restart();
  await until('every replica ready again', async () => (await Promise.all(replicas.map(ready))).every(Boolean));
  polling = false;
  await watch;
  // Acknowledged deliveries on every replica again, by the same processes.
  await load.untilAcked(Math.max(600, ackedBefore + 300));
  const result = await load.stop();
  assert.deepEqual(replicas.map((r) => r.proc.pid), pids);
  assert.ok(replicas.every((r) => r.proc.exitCode === null && r.proc.signalCode === null), 'no replica exited');
  assert.ok(notReady.has(JSON.stringify(['database not answering'])), `readiness said why while the server was away (saw ${[...notReady].join(' ')})`);
  assert.ok((result.statuses.get(503) ?? 0) > 0, `deliveries were refused meanwhile: ${JSON.stringify([...result.statuses])}`);
  assert.deepEqual([...result.statuses.keys()].filter((s) => s !== 200 && s !== 503), [], 'only 200 and 503');
  const stored = await storedIds(url);
  assert.deepEqual([...result.acked].filter((id) => !stored.has(id)), [], 'every 200 is stored');
  for (const r of replicas) assert.equal((await r.deliver(message({ message_id: `after-restart-${r.port}` }))).status, 200);
  const total = Number((await pgQuery(url, 'SELECT count(*) AS n FROM messages'))[0]?.['n']);
  for (const r of replicas) assert.equal(bodyJson(await r.get('/stats')).total_messages, total, '/stats exact after the restart');
  const warned = replicas.flatMap((r) => r.lines()).filter((l) => l['msg'] === 'database connection problem');
  assert.ok(warned.length > 0, 'the lost connections are logged');
  assertNoPassword(replicas);
  t.diagnostic(`${result.acked.size} acknowledged, statuses ${JSON.stringify([...result.statuses])}`);
});

test('the server down for a while: readiness says "database not answering", every route that needs it is 503, live tails end; started again, all is back and a resumed tail misses nothing', { timeout: 180_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const url = await fresh();
  const replicas = await startReplicas(t, url, 3);
  const [a, b] = replicas;
  assert.ok(a !== undefined && b !== undefined);
  for (let i = 0; i < 5; i += 1) assert.equal((await b.deliver(message({ message_id: `up-${i}` }))).status, 200);
  const tail = await openSse(`${a.url}/messages/stream`, { 'Last-Event-ID': '0' });
  t.after(() => tail.close());
  await tail.waitFor('the first five', (events) => messagesOf(events).length >= 5);

  cluster().stop();
  await tail.ended; // its feed is gone: it ends, so its client resumes from its last id
  for (const r of replicas) {
    const answer = await r.get('/health/ready');
    assert.deepEqual([answer.status, bodyJson(answer)], [503, { status: 'not ready', reasons: ['database not answering'] }]);
    const refused = await r.deliver(message({ message_id: `down-${r.port}` }));
    assert.equal(refused.status, 503);
    assert.deepEqual(bodyJson(refused), { detail: 'storage unavailable' });
    assert.equal('headers' in refused && refused.headers['retry-after'], '1');
    for (const path of ['/messages', '/stats', '/messages/export', '/messages/stream']) assert.equal((await r.get(path)).status, 503, path);
  }
  await cluster().start();
  await until('every replica ready again', async () => (await Promise.all(replicas.map(ready))).every(Boolean));
  for (let i = 0; i < 5; i += 1) assert.equal((await b.deliver(message({ message_id: `back-${i}` }))).status, 200);
  // The client resumes as EventSource would: again with its last id until it is live (a tail opened
  // before the replica's LISTEN connection is back ends at once: it reconnects with backoff).
  const seen = messagesOf(tail.events).map((m) => String(m.message['message_id']));
  let lastId = tail.lastId();
  await until('the resumed tail has the five stored after the restart', async () => {
    const resumed = await openSse(`${a.url}/messages/stream`, { 'Last-Event-ID': lastId });
    try {
      await resumed.waitFor('the rest', (events) => seen.length + messagesOf(events).length >= 10, 2_000);
    } catch {
      // ended early, or not everything yet
    }
    resumed.close();
    await resumed.ended;
    seen.push(...messagesOf(resumed.events).map((m) => String(m.message['message_id'])));
    lastId = resumed.lastId() === '' ? lastId : resumed.lastId();
    return seen.length >= 10;
  }, 30_000);
  assert.deepEqual(seen, [...Array.from({ length: 5 }, (_, i) => `up-${i}`), ...Array.from({ length: 5 }, (_, i) => `back-${i}`)]);
  assert.equal(Number((await pgQuery(url, 'SELECT count(*) AS n FROM messages'))[0]?.['n']), 10, 'nothing refused was stored');
  // Once LISTEN is back (reconnected with backoff; a tail opened before that ends at once, and its
  // client retries), a live tail hears another replica's commit.
  await until('a fresh commit heard live', async () => {
    const live = await openSse(`${a.url}/messages/stream`);
    try {
      await live.waitFor('its head', () => live.lastId() !== '', 2_000);
      assert.equal((await b.deliver(message({ message_id: `live-${Date.now()}` }))).status, 200);
      await live.waitFor('the commit', (events) => messagesOf(events).length > 0, 2_000);
      return true;
    } catch {
      return false;
    } finally {
      live.close();
    }
  }, 30_000);
  assertNoPassword(replicas);
});

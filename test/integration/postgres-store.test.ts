// What only the PostgreSQL backend has to get right, through the real service: a server that stops
// taking writes (a read-only database, as after a failover to a standby), a row refused by an
// operator's constraint, the LISTEN connection killed, and start-up failures that must not print
// the password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/domain/message.ts';
import { instantKey } from '../../src/domain/timestamp.ts';
import { spawnChild } from '../helpers/child-service.ts';
import { havePostgres, PASSWORD, useCluster } from '../helpers/postgres.ts';
import { bodyOf, freshService, message, SECRET } from '../helpers/service.ts';
import { messagesOf, openSse } from '../helpers/sse.ts';
import { postgresDatabase, type TestDatabase } from '../helpers/test-database.ts';

const cluster = useCluster();

async function database(): Promise<{ db: TestDatabase; name: string }> {
  const pg = cluster();
  const name = await pg.createDatabase();
  return { db: postgresDatabase(pg.url(name, 'sslmode=disable')), name };
}

/** Ends every session on the database but the caller's, as a failover or an operator would. */
const terminateSessions = (db: TestDatabase, name: string): Promise<unknown> =>
  db.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('a database that turns read-only: 503 for deliveries, readiness "database not writable"; writable again, it is ready and stores', async (t) => {
  if (!havePostgres(t)) return;
  const { db, name } = await database();
  const svc = await freshService(t, { database: db });
  assert.equal((await svc.deliver(message({ message_id: 'before' }))).status, 200);
  // From another database: once read-only, this one could not be made writable again from inside.
  const admin = postgresDatabase(cluster().url('postgres', 'sslmode=disable'));
  await admin.sql(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
  await terminateSessions(admin, name);
  await until('a refused delivery', async () => (await svc.deliver(message({ message_id: `ro-${Date.now()}` }))).status === 503);
  const refused = await svc.deliver(message({ message_id: 'while-read-only' }));
  assert.equal(refused.status, 503);
  assert.deepEqual(await bodyOf(refused), { detail: 'storage unavailable' });
  const notReady = await svc.get('/health/ready');
  assert.deepEqual([notReady.status, await bodyOf(notReady)], [503, { status: 'not ready', reasons: ['database not writable'] }]);
  assert.equal((await svc.get('/messages')).status, 200, 'reads still work');

  await admin.sql(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
  await terminateSessions(admin, name);
  await until('ready again', async () => (await svc.get('/health/ready')).status === 200);
  assert.equal((await svc.deliver(message({ message_id: 'after' }))).status, 200);
  const stored = (await db.sql('SELECT message_id FROM messages ORDER BY message_id')).map((r) => r['message_id']);
  assert.deepEqual(stored, ['after', 'before']);
});

test('started on a read-only database: readiness says "database not writable" before any delivery, and turns ready once it is writable', async (t) => {
  if (!havePostgres(t)) return;
  const { db, name } = await database();
  const first = await freshService(t, { database: db }); // migrates the schema
  await first.stop();
  const admin = postgresDatabase(cluster().url('postgres', 'sslmode=disable'));
  await admin.sql(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
  t.after(() => admin.sql(`ALTER DATABASE ${name} RESET default_transaction_read_only`));

  const svc = await freshService(t, { database: db });
  const notReady = await svc.get('/health/ready');
  assert.deepEqual([notReady.status, await bodyOf(notReady)], [503, { status: 'not ready', reasons: ['database not writable'] }]);
  assert.equal(svc.accessLogs().filter((l) => l['path'] === '/webhook').length, 0, 'no delivery was needed to find out');

  await admin.sql(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
  await terminateSessions(admin, name);
  await until('ready', async () => (await svc.get('/health/ready')).status === 200);
  assert.equal((await svc.deliver(message({ message_id: 'once-writable' }))).status, 200);
});

test('group commit: inserts that arrive together share one transaction, each answered with its own outcome', async (t) => {
  if (!havePostgres(t)) return;
  const { db } = await database();
  const svc = await freshService(t, { database: db });
  // 64 inserts queued in one turn of the event loop (as deliveries parsed in one turn are) go to
  // the server in one transaction; xmin is the id of the transaction that inserted a row.
  const at = (i: number): Message => ({ messageId: `g-${i % 48}`, from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00Z', tsKey: instantKey('2025-01-15T10:00:00Z') ?? assert.fail('ts'), text: `t${i}` });
  const results = await Promise.all(Array.from({ length: 64 }, (_, i) => svc.store.insert(at(i))));
  assert.deepEqual(results.map((r) => r.ok && r.created), results.map((_, i) => i < 48), 'the first of each id created, the repeats duplicates');
  const [row] = await db.sql("SELECT count(*) AS n, count(DISTINCT xmin::text) AS transactions FROM messages WHERE message_id LIKE 'g-%'");
  assert.deepEqual([Number(row?.['n']), Number(row?.['transactions'])], [48, 1]);
  // Through HTTP the arrivals spread over several turns; they still share transactions.
  const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => svc.deliver(message({ message_id: `h-${i}` }))));
  assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
  const [http] = await db.sql("SELECT count(DISTINCT xmin::text) AS transactions FROM messages WHERE message_id LIKE 'h-%'");
  t.diagnostic(`64 concurrent deliveries over HTTP committed in ${String(http?.['transactions'])} transactions`);
});

test('a row an operator\'s constraint refuses fails only its own delivery; the rest of its group commit is stored', async (t) => {
  if (!havePostgres(t)) return;
  const { db } = await database();
  const svc = await freshService(t, { database: db });
  // The operator's DDL waits until the service's background CREATE INDEX CONCURRENTLY (the q index)
  // is done: the two can deadlock, and PostgreSQL then aborts one of them (seen in CI: 40P01).
  await until('the search index step done', async () => svc.logs.some((l) => l['msg'] === 'search index' || String(l['msg']).startsWith('search index unavailable')));
  await db.sql("ALTER TABLE messages ADD CONSTRAINT no_forbidden CHECK (text IS DISTINCT FROM 'forbidden')");
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => svc.deliver(message({ message_id: `c-${i}`, text: i === 7 ? 'forbidden' : `fine ${i}` }))));
  assert.deepEqual(answers.map((a) => a.status), answers.map((_, i) => (i === 7 ? 503 : 200)));
  assert.equal(Number((await db.sql('SELECT count(*) AS n FROM messages'))[0]?.['n']), 29);
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 29);
});

test('the LISTEN connection killed: open tails end (their clients resume), LISTEN comes back by itself, nothing is missed', async (t) => {
  if (!havePostgres(t)) return;
  const { db } = await database();
  const svc = await freshService(t, { database: db });
  assert.equal((await svc.deliver(message({ message_id: 'l-0' }))).status, 200);
  const tail = await openSse(`${svc.url}/messages/stream`, { 'Last-Event-ID': '0' });
  t.after(() => tail.close());
  await tail.waitFor('l-0', (events) => messagesOf(events).length === 1);
  await db.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
  await tail.ended;
  for (let i = 1; i <= 3; i += 1) assert.equal((await svc.deliver(message({ message_id: `l-${i}` }))).status, 200);
  const seen = messagesOf(tail.events).map((m) => String(m.message['message_id']));
  let lastId = tail.lastId();
  await until('resumed to the end', async () => {
    const resumed = await openSse(`${svc.url}/messages/stream`, { 'Last-Event-ID': lastId });
    await resumed.waitFor('the rest', (events) => seen.length + messagesOf(events).length >= 4, 2_000).catch(() => {});
    resumed.close();
    await resumed.ended;
    seen.push(...messagesOf(resumed.events).map((m) => String(m.message['message_id'])));
    lastId = resumed.lastId() === '' ? lastId : resumed.lastId();
    return seen.length >= 4;
  });
  assert.deepEqual(seen, ['l-0', 'l-1', 'l-2', 'l-3']);
});

test('the database ready line names the backend and server, never the password; a wrong password or no server stops the start, without printing it', async (t) => {
  if (!havePostgres(t)) return;
  const { db, name } = await database();
  const svc = await freshService(t, { database: db });
  const line = svc.logs.find((l) => l['msg'] === 'database ready');
  assert.deepEqual(line && { ...line, ts: undefined }, {
    ts: undefined, level: 'info', msg: 'database ready', backend: 'postgres', host: '127.0.0.1', port: cluster().port, database: name, user: 'postgres',
    sslmode: 'disable', pool_size: 4, schema_from: 0, schema_version: 2, backfilled_rows: 0, recounted: false,
  });
  assert.ok(!svc.rawLog().includes(PASSWORD));

  const wrong = cluster().url(name, 'sslmode=disable', 'postgres', 'not-the-password-1234');
  const bad = spawnChild(t, { WEBHOOK_SECRET: SECRET, DATABASE_URL: wrong, PORT: '0' });
  assert.deepEqual(await bad.waitExit(30_000), { code: 1, signal: null });
  const out = `${bad.stdout()}${bad.stderr()}`;
  assert.match(out, /"msg":"could not start"/);
  assert.match(out, /password authentication failed/);
  assert.ok(!out.includes('not-the-password-1234'), out);

  const nowhere = spawnChild(t, { WEBHOOK_SECRET: SECRET, DATABASE_URL: `postgres://app:secret-pw-9876@127.0.0.1:1/db?sslmode=disable&connect_timeout=2`, PORT: '0' });
  assert.deepEqual(await nowhere.waitExit(30_000), { code: 1, signal: null });
  assert.ok(!`${nowhere.stdout()}${nowhere.stderr()}`.includes('secret-pw-9876'));
});

test('rows inserted behind the service are counted and numbered at the next start (they show in /stats and in the live tail\'s replay)', async (t) => {
  if (!havePostgres(t)) return;
  const { db } = await database();
  const first = await freshService(t, { database: db });
  assert.equal((await first.deliver(message({ message_id: 'own-1' }))).status, 200);
  await first.stop();
  await db.sql(`INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold)
    VALUES ('outside-1', '+15550000009', '+1', '2025-01-15T10:00:00Z', 'Hi', now(), '2025-01-15T10:00:00.000000000Z', 'hi')`);
  const second = await freshService(t, { database: db });
  assert.equal(second.logs.find((l) => l['msg'] === 'database ready')?.['recounted'], true);
  const stats = await bodyOf(await second.get('/stats'));
  assert.deepEqual([stats.total_messages, stats.senders_count], [2, 2]);
  const tail = await openSse(`${second.url}/messages/stream`, { 'Last-Event-ID': '0' });
  t.after(() => tail.close());
  await tail.waitFor('both', (events) => messagesOf(events).length === 2);
  assert.deepEqual(messagesOf(tail.events).map((m) => m.message['message_id']), ['own-1', 'outside-1']);
  const third = await freshService(t, { database: db });
  assert.equal(third.logs.find((l) => l['msg'] === 'database ready')?.['recounted'], false, 'counted once');
});

test('a batch commits with synchronous_commit on even where the database is set to off; stronger settings are kept', async (t) => {
  if (!havePostgres(t)) return;
  const { db, name } = await database();
  const svc = await freshService(t, { database: db });
  assert.equal((await svc.deliver(message({ message_id: 'first' }))).status, 200);
  const admin = postgresDatabase(cluster().url('postgres', 'sslmode=disable'));
  const settingInside = async (setting: string): Promise<unknown> => {
    await admin.sql(`ALTER DATABASE ${name} SET synchronous_commit = ${setting}`);
    // What the store function leaves in force for the commit of its own transaction.
    const rows = await db.sql(`WITH s AS (SELECT * FROM webhook_api_store_v1('{x-${setting}}', '{+1}', '{+2}', '{2025-01-15T10:00:00Z}', '{t}',
      ARRAY[now()], '{2025-01-15T10:00:00.000000000Z}', '{t}', 1, 'unused_channel', 'test:1')) SELECT (SELECT count(*) FROM s) AS n, current_setting('synchronous_commit') AS setting`);
    return rows[0]?.['setting'];
  };
  assert.equal(await settingInside('off'), 'on');
  assert.equal(await settingInside('remote_apply'), 'remote_apply');
  assert.equal(await settingInside('local'), 'local');
});

test('q on PostgreSQL: the pg_trgm index is built after start-up, rebuilt when left invalid, and q answers the same through it', async (t) => {
  if (!havePostgres(t)) return;
  const { db } = await database();
  const valid = async (): Promise<boolean | null> => {
    const rows = await db.sql("SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'messages_text_fold_trgm_idx'");
    return rows.length === 0 ? null : rows[0]?.['valid'] === true;
  };
  const first = await freshService(t, { database: db });
  const texts: Record<string, string> = {
    'p-meta': 'a%b_c*d?e[f]g "quoted" \\back', 'p-nul': 'nul\u0000in\u0001side', 'p-fold': 'GROẞE Straße', 'p-kalo': 'kalo mi kalo', 'p-none': 'nothing',
  };
  for (const [message_id, text] of Object.entries(texts)) {
    const res = await first.deliver(message({ message_id, text }));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  await until('the index built', async () => (await valid()) === true);
  assert.ok(first.logs.some((l) => l['msg'] === 'search index' && (l['search_index'] === 'built' || l['search_index'] === 'present')));
  const cases: [string, string[]][] = [
    ['%b_', ['p-meta']], ['_c*d?', ['p-meta']], ['[f]', ['p-meta']], ['"quoted"', ['p-meta']], ['\\back', ['p-meta']], ['\\', ['p-meta']],
    ['l\u0000in\u0001', ['p-nul']], ['\u0001side', ['p-nul']], ['\u0000', ['p-nul']], ['grosse', ['p-fold']], ['STRASSE', ['p-fold']], ['kalo', ['p-kalo']],
    ['%', ['p-meta']], ['_', ['p-meta']], ['qqq', []],
  ];
  const check = async (svc: typeof first): Promise<void> => {
    for (const [q, want] of cases) {
      const body = await bodyOf(await svc.get(`/messages?q=${encodeURIComponent(q)}`));
      assert.deepEqual([body.total, body.data.map((m: { message_id: string }) => m.message_id)], [want.length, want], JSON.stringify(q));
    }
  };
  await check(first);
  await first.stop();

  // An interrupted CREATE INDEX CONCURRENTLY leaves the index invalid: the next start rebuilds it.
  await db.sql("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'messages_text_fold_trgm_idx'::regclass");
  assert.equal(await valid(), false);
  const second = await freshService(t, { database: db });
  await until('the index rebuilt', async () => (await valid()) === true);
  await check(second);
});

// scripts/sqlite-to-postgres.ts: every row of a SQLite file (this service's, and one the earlier
// service wrote) copied into PostgreSQL in arrival order, with created_at kept; a second run adds
// nothing; the service on PostgreSQL then answers exactly as it did on SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { spawnChild } from '../helpers/child-service.ts';
import { havePostgres, PASSWORD, useCluster } from '../helpers/postgres.ts';
import { bodyOf, message, seed, startTestService, tempDir, type TestService } from '../helpers/service.ts';
import { postgresDatabase, sqliteDatabase } from '../helpers/test-database.ts';
import { fromDb } from '../../src/storage/postgres/store/text.ts';

const cluster = useCluster();
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'sqlite-to-postgres.ts');

function spawnScript(t: { after(fn: () => unknown): void }, from: string, url: string): ReturnType<typeof spawnChild> {
  return spawnChild(t, { DATABASE_URL: url }, { entry: SCRIPT, args: ['--from', from, '--batch', '7'] });
}

/** Everything a client can read: every page of the list, and /stats. */
async function everything(svc: TestService): Promise<unknown> {
  const pages = [];
  for (let offset = 0; offset < 200; offset += 50) pages.push((await bodyOf(await svc.get(`/messages?limit=50&offset=${offset}`))).data);
  return { pages, stats: await bodyOf(await svc.get('/stats')), q: await bodyOf(await svc.get('/messages?q=%C3%89COLE')) };
}

test('a SQLite file is copied row for row, in arrival order, created_at kept; run again, nothing is added; PostgreSQL answers as SQLite did', { timeout: 180_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const dir = tempDir();
  const path = join(dir, 'app.db');
  const sqliteSvc = await startTestService({ dbPath: path });
  const messages = [
    ...Array.from({ length: 40 }, (_, i) => message({ message_id: `mig-${i}`, from: `+1777${String(i % 6).padStart(7, '0')}`, ts: `2025-03-0${1 + (i % 9)}T10:00:0${i % 10}.${i}Z`, text: i % 5 === 0 ? null : `école ${i}` })),
    message({ message_id: 'nul\u0000id', text: 'a\u0000b \u0001 ÉCOLE' }),
    message({ message_id: 'emoji-😀', text: '😀'.repeat(4096) }),
  ];
  await seed(sqliteSvc, messages);
  const before = await everything(sqliteSvc);
  await sqliteSvc.stop();
  const sqliteRows = await sqliteDatabase(path).sql('SELECT message_id, created_at FROM messages ORDER BY rowid');

  const pg = cluster();
  const name = await pg.createDatabase();
  const url = pg.url(name, 'sslmode=disable');
  const first = spawnScript(t, path, url);
  assert.deepEqual(await first.waitExit(120_000), { code: 0, signal: null }, `${first.stdout()}${first.stderr()}`);
  assert.deepEqual(first.lines().at(-1), { msg: 'copied', rows: messages.length, created: messages.length, already_there: 0, created_at_from_ts: 0 });
  assert.ok(!`${first.stdout()}${first.stderr()}`.includes(PASSWORD), 'the password is never printed');

  const db = postgresDatabase(url);
  const arrivals = await db.sql('SELECT a.message_id, m.created_at FROM arrivals a JOIN messages m USING (message_id) ORDER BY a.seq');
  // Raw SQL sees PostgreSQL's form of a NUL (text.ts): U+0001 U+0001.
  assert.deepEqual(arrivals.map((r) => fromDb(String(r['message_id']))), sqliteRows.map((r) => r['message_id']), 'seqs follow the SQLite arrival order');
  for (const [i, row] of arrivals.entries()) {
    assert.equal(new Date(String(row['created_at']).replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString(), String(sqliteRows[i]?.['created_at']), 'created_at kept');
  }

  const again = spawnScript(t, path, url);
  assert.deepEqual(await again.waitExit(120_000), { code: 0, signal: null });
  assert.deepEqual(again.lines().at(-1), { msg: 'copied', rows: messages.length, created: 0, already_there: messages.length, created_at_from_ts: 0 });
  assert.equal(Number((await db.sql('SELECT count(*) AS n FROM arrivals'))[0]?.['n']), messages.length, 'no second arrival for any row');

  const pgSvc = await startTestService({ database: db });
  t.after(() => pgSvc.stop());
  assert.deepEqual(await everything(pgSvc), before);
});

test('a file the earlier service wrote (no ts_key, Python timestamps) is copied too; unreadable created_at values take the message instant', { timeout: 120_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const dir = tempDir();
  const path = join(dir, 'legacy.db');
  const legacy = new DatabaseSync(path);
  legacy.exec('CREATE TABLE messages (message_id TEXT PRIMARY KEY, from_msisdn TEXT NOT NULL, to_msisdn TEXT NOT NULL, ts TEXT NOT NULL, text TEXT, created_at TEXT NOT NULL)');
  const insert = legacy.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
  insert.run('old-1', '+1555', '+1666', '2025-01-15T10:00:00+02:00', 'hi', '2025-01-15T08:00:01.123456');
  insert.run('old-2', '+1555', '+1666', '2025-01-15T09:00:00Z', null, '2025-01-15 09:00:02');
  insert.run('old-3', '+1777', '+1666', 'garbage', 'x', 'yesterday');
  legacy.close();
  const pg = cluster();
  const url = pg.url(await pg.createDatabase(), 'sslmode=disable');
  const run = spawnScript(t, path, url);
  assert.deepEqual(await run.waitExit(120_000), { code: 0, signal: null }, `${run.stdout()}${run.stderr()}`);
  assert.deepEqual(run.lines().at(-1), { msg: 'copied', rows: 3, created: 3, already_there: 0, created_at_from_ts: 1 });
  const svc = await startTestService({ database: postgresDatabase(url) });
  t.after(() => svc.stop());
  assert.deepEqual((await bodyOf(await svc.get('/messages'))).data.map((m: { message_id: string }) => m.message_id), ['old-3', 'old-1', 'old-2'], 'by instant: unreadable first, 08:00Z, 09:00Z');
  const created = await postgresDatabase(url).sql("SELECT message_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS c FROM messages ORDER BY message_id");
  assert.deepEqual(created.map((r) => r['c']), ['2025-01-15 08:00:01.123456', '2025-01-15 09:00:02.000000', '1970-01-01 00:00:00.000000']);
});

test('the script refuses a non-PostgreSQL DATABASE_URL and a missing file, exit 2, without echoing the URL', async (t) => {
  const noPg = spawnScript(t, '/nonexistent.db', 'postgres://app:hunter2-pw@127.0.0.1:1/db');
  assert.equal((await noPg.waitExit()).code, 2);
  assert.ok(!`${noPg.stderr()}`.includes('hunter2'));
  const dir = tempDir();
  const sqliteUrl = spawnScript(t, dir, `sqlite:///${join(dir, 'x.db')}`);
  assert.equal((await sqliteUrl.waitExit()).code, 2);
  assert.match(sqliteUrl.stderr(), /DATABASE_URL must be a postgres/);
});

// The PostgreSQL client against a real server: authentication, the extended query protocol,
// pipelining, prepared statements, typed errors, notices, timeouts with cancel, the pool's bound,
// transactions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { inspect } from 'node:util';
import { Connection } from '../../src/storage/postgres/connection.ts';
import { createPool, parsePostgresUrl } from '../../src/storage/postgres/client.ts';
import { havePostgres, PASSWORD, useCluster } from '../helpers/postgres.ts';
import { configFor, eventually, failed, ok, poolFor } from '../helpers/pg-client.ts';

const theCluster = useCluster();

const connectionOptions = { keepAliveMs: 10_000, maxFrameBytes: 1 << 26, cancelGraceMs: 5_000 };

test('SCRAM-SHA-256 with the right password connects; the server proved its signature', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  const opened = await Connection.open(configFor(cluster, db), connectionOptions);
  assert.ok(opened.ok);
  t.after(() => opened.connection.close());
  assert.equal(opened.connection.tls, false);
  assert.equal(opened.connection.parameters.get('client_encoding'), 'UTF8');
  assert.equal(opened.connection.parameters.get('TimeZone'), 'UTC');
  const r = ok(await opened.connection.query('SELECT current_user AS u, current_database() AS d', []));
  assert.deepEqual(r.rows, [{ u: 'postgres', d: db }]);
});

test('a wrong password is a typed auth failure (28P01) that never shows the password', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const parsed = parsePostgresUrl(cluster.url(await cluster.createDatabase(), '', 'postgres', 'not-the-password'));
  assert.ok(parsed.ok);
  const opened = await Connection.open(parsed.config, connectionOptions);
  assert.equal(opened.ok, false);
  if (opened.ok) return;
  assert.equal(opened.error.kind, 'auth');
  assert.equal(opened.error.sqlstate, '28P01');
  const shown = `${inspect(opened.error, { depth: 5 })} ${opened.error.message} ${JSON.stringify(opened.error)} ${inspect(parsed.config)}`;
  assert.doesNotMatch(shown, /not-the-password/);
  assert.doesNotMatch(inspect(configFor(cluster, 'postgres')), new RegExp(PASSWORD.slice(0, 6)));
});

test('a pool whose password is wrong answers each query with the auth failure, fast', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const parsed = parsePostgresUrl(cluster.url(await cluster.createDatabase(), '', 'postgres', 'nope'));
  assert.ok(parsed.ok);
  const pool = poolFor(t, parsed.config);
  const results = await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]);
  for (const r of results) assert.equal(failed(r).kind, 'auth');
  // During the backoff no new attempt is made: the last failure is returned at once.
  const again = failed(await pool.query('SELECT 3'));
  assert.equal(again.kind, 'auth');
  assert.ok(pool.errors.length >= 1);
});

test('the server asking for a cleartext password without TLS is refused before the password is sent', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const parsed = parsePostgresUrl(cluster.url(await cluster.createDatabase(), 'sslmode=disable', cluster.users.clear.name, cluster.users.clear.password));
  assert.ok(parsed.ok);
  const opened = await Connection.open(parsed.config, connectionOptions);
  assert.equal(opened.ok, false);
  if (opened.ok) return;
  assert.equal(opened.error.kind, 'auth');
  assert.equal(opened.error.sqlstate, null, 'refused by the client, not by the server');
  assert.match(opened.error.message, /cleartext/);
});

test('MD5 authentication is refused with a clear typed error', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const parsed = parsePostgresUrl(cluster.url(await cluster.createDatabase(), 'sslmode=disable', cluster.users.md5.name, cluster.users.md5.password));
  assert.ok(parsed.ok);
  const opened = await Connection.open(parsed.config, connectionOptions);
  assert.equal(opened.ok, false);
  if (opened.ok) return;
  assert.equal(opened.error.kind, 'auth');
  assert.match(opened.error.message, /MD5/);
});

test('a database that does not exist is a connection failure with its SQLSTATE', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const opened = await Connection.open(configFor(cluster, 'no_such_db'), connectionOptions);
  assert.equal(opened.ok, false);
  if (!opened.ok) {
    assert.equal(opened.error.kind, 'connection');
    assert.equal(opened.error.sqlstate, '3D000');
  }
});

test('text parameters in, typed values out: int8 stays exact, NULLs, booleans, Unicode, bytea', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()));
  const r = ok(await pool.query(
    'SELECT $1::int8 AS big, $2::int4 AS small, $3::text AS txt, $4::bool AS yes, $5::text AS nothing, $6::timestamptz AS ts, $7::bytea AS raw, $8::numeric AS num, 1.5::float8 AS f',
    [9007199254740993n, -42, 'zürich ✓ 😀', true, null, new Date('2024-01-02T03:04:05.678Z'), Buffer.from([0, 1, 255]), '12345678901234567890.123'],
  ));
  assert.deepEqual(r.rows, [{
    big: 9007199254740993n, small: -42, txt: 'zürich ✓ 😀', yes: true, nothing: null, ts: '2024-01-02 03:04:05.678+00', raw: '\\x0001ff', num: '12345678901234567890.123', f: 1.5,
  }]);
  assert.equal(r.command, 'SELECT');
  assert.equal(r.rowCount, 1);
});

test('command tags and row counts: CREATE, INSERT, UPDATE, DELETE, and an empty query', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()));
  assert.equal(ok(await pool.query('CREATE TABLE t (id int8 PRIMARY KEY, v text)')).command, 'CREATE TABLE');
  const ins = ok(await pool.query('INSERT INTO t SELECT g, g::text FROM generate_series(1, 5) g'));
  assert.deepEqual([ins.command, ins.rowCount, ins.rows], ['INSERT', 5, []]);
  assert.equal(ok(await pool.query('UPDATE t SET v = $1 WHERE id > $2', ['x', 3])).rowCount, 2);
  assert.equal(ok(await pool.query('DELETE FROM t WHERE id = $1', [1])).rowCount, 1);
  const empty = ok(await pool.query(''));
  assert.deepEqual([empty.command, empty.rowCount], ['', 0]);
});

test('pipelined queries on one connection are answered in order, and an error in the middle touches only its own query', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()), { size: 1 });
  const n = 200;
  const results = await Promise.all(Array.from({ length: n }, (_, i) =>
    i === 100 ? pool.query('SELECT 1/0 AS boom') : pool.query('SELECT $1::int4 AS i, pg_backend_pid() AS pid', [i])));
  const pids = new Set<unknown>();
  results.forEach((r, i) => {
    if (i === 100) {
      const e = failed(r);
      assert.equal(e.sqlstate, '22012');
      assert.equal(e.kind, 'query');
      return;
    }
    const row = ok(r).rows[0];
    assert.equal(row?.['i'], i);
    pids.add(row?.['pid']);
  });
  assert.equal(pids.size, 1, 'all on the one connection');
  assert.equal(pool.stats().open, 1);
});

test('a named prepared statement is parsed once per connection and reused', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  const opened = await Connection.open(configFor(cluster, db), connectionOptions);
  assert.ok(opened.ok);
  const c = opened.connection;
  t.after(() => c.close());
  const sql = 'SELECT $1::int4 + 1 AS n';
  const firstTwo = await Promise.all([c.query(sql, [1], { name: 'plus_one' }), c.query(sql, [2], { name: 'plus_one' })]);
  assert.deepEqual(firstTwo.map((r) => ok(r).rows[0]?.['n']), [2, 3]);
  ok(await c.query(sql, [3], { name: 'plus_one' }));
  const stmts = ok(await c.query('SELECT name, statement FROM pg_prepared_statements', []));
  assert.deepEqual(stmts.rows, [{ name: 'plus_one', statement: sql }]);
  // One name for two texts is a bug in the caller.
  assert.throws(() => c.query('SELECT 2', [], { name: 'plus_one' }), TypeError);
});

test('a prepared statement whose Parse failed is parsed again next time; a DEALLOCATEd one too', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const opened = await Connection.open(configFor(cluster, await cluster.createDatabase()), connectionOptions);
  assert.ok(opened.ok);
  const c = opened.connection;
  t.after(() => c.close());
  assert.equal(failed(await c.query('SELECT * FROM later', [], { name: 'read_later' })).sqlstate, '42P01');
  ok(await c.query('CREATE TABLE later (x int)', []));
  ok(await c.query('SELECT * FROM later', [], { name: 'read_later' }));
  ok(await c.query('DEALLOCATE read_later', []));
  assert.equal(failed(await c.query('SELECT * FROM later', [], { name: 'read_later' })).sqlstate, '26000');
  ok(await c.query('SELECT * FROM later', [], { name: 'read_later' }));
});

test('a table changed under a prepared statement: the error is returned once, then it is re-prepared', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const opened = await Connection.open(configFor(cluster, await cluster.createDatabase()), connectionOptions);
  assert.ok(opened.ok);
  const c = opened.connection;
  t.after(() => c.close());
  ok(await c.query('CREATE TABLE shape (a int)', []));
  ok(await c.query('SELECT * FROM shape', [], { name: 'shape_all' }));
  ok(await c.query('ALTER TABLE shape ADD COLUMN b int', []));
  const e = failed(await c.query('SELECT * FROM shape', [], { name: 'shape_all' }));
  assert.equal(e.sqlstate, '0A000');
  ok(await c.query('INSERT INTO shape VALUES (1, 2)', []));
  assert.deepEqual(ok(await c.query('SELECT * FROM shape', [], { name: 'shape_all' })).rows, [{ a: 1, b: 2 }]);
});

test('errors keep their SQLSTATE and are classified: unique violation, syntax, serialization', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()));
  ok(await pool.query('CREATE TABLE u (id text PRIMARY KEY)'));
  ok(await pool.query('INSERT INTO u VALUES ($1)', ['a']));
  const dup = failed(await pool.query('INSERT INTO u VALUES ($1)', ['a']));
  assert.deepEqual([dup.kind, dup.sqlstate, dup.constraint, dup.table], ['unique_violation', '23505', 'u_pkey', 'u']);
  assert.deepEqual(dup.logFields(), { kind: 'unique_violation', sqlstate: '23505', constraint: 'u_pkey' });
  const syntax = failed(await pool.query('SELEC 1'));
  assert.deepEqual([syntax.kind, syntax.sqlstate], ['query', '42601']);
  const serial = failed(await pool.query("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'serialization_failure'; END $$"));
  assert.deepEqual([serial.kind, serial.sqlstate], ['serialization', '40001']);
  const readOnly = await pool.transaction(async (tx) => {
    ok(await tx.query('SET TRANSACTION READ ONLY'));
    return tx.query('INSERT INTO u VALUES ($1)', ['b']);
  });
  assert.equal(readOnly.ok, false);
  if (!readOnly.ok) assert.deepEqual([readOnly.error.kind, readOnly.error.sqlstate], ['read_only', '25006']);
  assert.equal(ok(await pool.query('SELECT count(*) AS n FROM u')).rows[0]?.['n'], 1n);
});

test('a NoticeResponse reaches onNotice and does not disturb the query', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const notices: Readonly<Record<string, string>>[] = [];
  const pool = createPool(configFor(cluster, await cluster.createDatabase()), { onNotice: (fields) => notices.push(fields) });
  t.after(() => pool.close());
  const r = ok(await pool.query("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$"));
  assert.equal(r.command, 'DO');
  assert.equal(notices.length, 1);
  assert.equal(notices[0]?.['M'], 'hello 42');
  assert.equal(notices[0]?.['V'], 'NOTICE');
  ok(await pool.query('SELECT 1'));
});

test('a query over its timeout fails as timeout at once, the server statement is canceled, the connection stays usable', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  const pool = poolFor(t, configFor(cluster, db), { size: 1 });
  const pid = ok(await pool.query('SELECT pg_backend_pid() AS pid')).rows[0]?.['pid'];
  const started = Date.now();
  const slow = failed(await pool.query('SELECT pg_sleep(30)', [], { timeoutMs: 300 }));
  assert.equal(slow.kind, 'timeout');
  assert.ok(Date.now() - started < 5_000);
  // The next query on the same connection runs once the cancel has stopped the sleep.
  const after = ok(await pool.query('SELECT pg_backend_pid() AS pid'));
  assert.equal(after.rows[0]?.['pid'], pid, 'the same connection, not a new one');
  assert.ok(Date.now() - started < 10_000, 'the sleep was canceled, not waited out');
  const running = cluster.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}' AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`);
  assert.equal(running.trim(), '0');
});

test('statement_timeout on the server is a typed canceled error (57014)', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()), { size: 1 });
  const r = await pool.transaction(async (tx) => {
    ok(await tx.query("SET LOCAL statement_timeout = '50ms'"));
    return tx.query('SELECT pg_sleep(5)');
  });
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual([r.error.kind, r.error.sqlstate], ['canceled', '57014']);
});

test('the pool opens at most PG_POOL_SIZE connections and bounds its wait queue', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  const pool = poolFor(t, configFor(cluster, db), { size: 2, maxQueue: 3, pipelineDepth: 1 });
  // Two transactions hold both connections.
  let releaseBoth: () => void = () => {};
  const hold = new Promise<void>((r) => (releaseBoth = r));
  const holders = [pool.transaction(() => hold), pool.transaction(() => hold)];
  await eventually('both connections pinned', () => pool.stats().pinned === 2);
  const waiting = [pool.query('SELECT 1'), pool.query('SELECT 2'), pool.query('SELECT 3')];
  assert.equal(pool.stats().queued, 3);
  const refused = failed(await pool.query('SELECT 4'));
  assert.equal(refused.kind, 'pool_full');
  releaseBoth();
  for (const h of await Promise.all(holders)) assert.equal(h.ok, true);
  for (const w of await Promise.all(waiting)) ok(w);
  const open = cluster.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}' AND backend_type = 'client backend'`);
  assert.equal(open.trim(), '2');
});

test('a caller waiting in the queue gets a timeout when no connection frees up in time', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()), { size: 1 });
  let release: () => void = () => {};
  const holder = pool.transaction(() => new Promise<void>((r) => (release = r)));
  await eventually('the connection pinned', () => pool.stats().pinned === 1);
  const e = failed(await pool.query('SELECT 1', [], { timeoutMs: 100 }));
  assert.equal(e.kind, 'timeout');
  assert.equal(pool.stats().queued, 0);
  release();
  assert.equal((await holder).ok, true);
});

test('transactions: commit, rollback on a failed statement, rollback and rethrow on a throw, nothing interleaved', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const pool = poolFor(t, configFor(cluster, await cluster.createDatabase()), { size: 2 });
  ok(await pool.query('CREATE TABLE acct (id int PRIMARY KEY, n int8 NOT NULL)'));
  const committed = await pool.transaction(async (tx) => {
    // Pipelined inside the transaction.
    const [a, b] = await Promise.all([tx.query('INSERT INTO acct VALUES (1, 10)'), tx.query('INSERT INTO acct VALUES (2, 20)')]);
    return ok(a).rowCount + ok(b).rowCount;
  });
  assert.deepEqual(committed, { ok: true, value: 2 });
  const failedTx = await pool.transaction(async (tx) => {
    await tx.query('UPDATE acct SET n = n + 1');
    await tx.query('INSERT INTO acct VALUES (1, 0)');
    return 'unreached';
  });
  assert.equal(failedTx.ok, false);
  if (!failedTx.ok) assert.equal(failedTx.error.kind, 'unique_violation');
  await assert.rejects(pool.transaction(async (tx) => {
    await tx.query('UPDATE acct SET n = 0');
    throw new Error('bug in the callback');
  }), /bug in the callback/);
  assert.deepEqual(ok(await pool.query('SELECT id, n FROM acct ORDER BY id')).rows, [{ id: 1, n: 10n }, { id: 2, n: 20n }]);
  // While a transaction holds its connection, other queries run on the other one, never inside it.
  let inside: unknown = null;
  const tx = pool.transaction(async (q) => {
    await q.query('UPDATE acct SET n = 99 WHERE id = 1');
    inside = ok(await q.query('SELECT txid_current_if_assigned() AS x')).rows[0]?.['x'];
    const outside = await Promise.all(Array.from({ length: 20 }, () => pool.query('SELECT txid_current_if_assigned() AS x, (SELECT n FROM acct WHERE id = 1) AS n')));
    for (const r of outside) assert.deepEqual(ok(r).rows[0], { x: null, n: 10n });
  });
  assert.equal((await tx).ok, true);
  assert.notEqual(inside, null);
  assert.equal(ok(await pool.query('SELECT n FROM acct WHERE id = 1')).rows[0]?.['n'], 99n);
});

test('close() lets in-flight queries finish, fails later ones as closed, and leaves no connection behind', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  const pool = createPool(configFor(cluster, db));
  const inflight = pool.query('SELECT pg_sleep(0.2) AS s');
  await eventually('the query running', () => pool.stats().open === 1);
  const closing = pool.close();
  ok(await inflight);
  await closing;
  assert.equal(failed(await pool.query('SELECT 1')).kind, 'closed');
  await eventually('the backend gone', () => cluster.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}'`).trim() === '0');
});

test('SASLprep agrees with the server: passwords with non-ASCII spaces, soft hyphens, compatibility forms, prohibited characters', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  const passwords = ['a\u00a0b\u2003c', 'pass\u00adword', '\u2168 roman', 'e\u0301t\u00e9', 'x\ue000 private', 'ü\u0085 control', '\u00ad', 'plain ascii'];
  for (const [i, password] of passwords.entries()) {
    const role = `prep_${i}`;
    const literal = [...password].map((ch) => `\\${ch.codePointAt(0)?.toString(16).padStart(6, '0')}`).join('');
    cluster.psql(`DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN PASSWORD U&'${literal.replaceAll('\\', '\\+')}'`);
    const parsed = parsePostgresUrl(cluster.url(db, 'sslmode=disable', role, password));
    assert.ok(parsed.ok);
    const opened = await Connection.open(parsed.config, connectionOptions);
    assert.ok(opened.ok, `password #${i} ${JSON.stringify(password)}: ${opened.ok ? '' : opened.error.message}`);
    await opened.connection.close();
  }
});

test('against a server without TLS: prefer (and no sslmode) falls back to plaintext, require and verify-full refuse', async (t) => {
  if (!havePostgres(t)) return;
  const cluster = theCluster();
  const db = await cluster.createDatabase();
  for (const query of ['sslmode=prefer', '']) {
    const opened = await Connection.open(configFor(cluster, db, query), connectionOptions);
    assert.ok(opened.ok);
    assert.equal(opened.connection.tls, false);
    await opened.connection.close();
  }
  for (const query of ['sslmode=require', 'sslmode=verify-full']) {
    const opened = await Connection.open(configFor(cluster, db, query), connectionOptions);
    assert.equal(opened.ok, false);
    if (!opened.ok) assert.equal(opened.error.kind, 'tls');
  }
});

test('an IPv6 host in brackets connects over ::1', async (t) => {
  if (!havePostgres(t)) return;
  const hasV6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));
  if (!hasV6Loopback) return t.skip('this machine has no IPv6 loopback (::1)');
  const cluster = theCluster();
  const parsed = parsePostgresUrl(`postgres://postgres:${encodeURIComponent(PASSWORD)}@[::1]:${cluster.port}/${await cluster.createDatabase()}?sslmode=disable`);
  assert.ok(parsed.ok);
  const opened = await Connection.open(parsed.config, connectionOptions);
  assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
  assert.equal(ok(await opened.connection.query('SELECT host(inet_client_addr()) AS a', [])).rows[0]?.['a'], '::1');
  await opened.connection.close();
});

test('nothing can be connected to: a typed connection error, quickly', async (t) => {
  const parsed = parsePostgresUrl('postgres://u:p@127.0.0.1:1/d?sslmode=disable');
  assert.ok(parsed.ok);
  const pool = poolFor(t, parsed.config);
  const e = failed(await pool.query('SELECT 1'));
  assert.equal(e.kind, 'connection');
  assert.match(String((e.cause as { code?: string } | undefined)?.code), /ECONNREFUSED/);
});

test('a transaction gets a connection under a steady pipelined load (queries stop piling onto busy connections)', async (t) => {
  if (!havePostgres(t)) return;
  const pool = poolFor(t, configFor(theCluster(), await theCluster().createDatabase()), { size: 1, pipelineDepth: 16 });
  let stop = false;
  const lane = async (): Promise<void> => {
    while (!stop) ok(await pool.query('SELECT pg_sleep(0.001)'));
  };
  const lanes = Promise.all(Array.from({ length: 16 }, lane));
  await eventually('the connection busy', () => pool.stats().open === 1);
  const tx = await pool.transaction(async (q) => ok(await q.query('SELECT 42 AS n')).rows[0]?.['n'], { timeoutMs: 5_000 });
  stop = true;
  await lanes;
  assert.deepEqual(tx, { ok: true, value: 42 });
});

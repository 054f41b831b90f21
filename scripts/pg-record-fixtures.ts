// Records real PostgreSQL protocol bytes into test/fixtures/postgres/*.json for the unit tests:
// a throwaway cluster (test/helpers/postgres.ts), a recording TCP proxy in front of it, and
// clients talking through it: libpq (psql, pgbench: an independent encoder to compare ours with)
// and this project's client. Run again after a protocol change: `node scripts/pg-record-fixtures.ts`.
// Needs PostgreSQL installed (Debian's postgresql package) and openssl; runs as root or as a user.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Connection } from '../src/storage/postgres/connection.ts';
import { parsePostgresUrl } from '../src/storage/postgres/url.ts';
import { startupMessage } from '../src/storage/postgres/wire/encode.ts';
import { findBinaries, PASSWORD, startCluster } from '../test/helpers/postgres.ts';
import { startProxy, type Chunk, type Proxy } from '../test/helpers/tcp-proxy.ts';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'postgres');
const bin = findBinaries();
if (bin === null) throw new Error('PostgreSQL is not installed');

const cleanups: (() => unknown)[] = [];
const cluster = await startCluster({ after: (fn) => cleanups.push(fn) });

function save(name: string, description: string, sessions: Chunk[][]): void {
  const json = { description, recorded: `PostgreSQL ${cluster.psql('SHOW server_version').trim()}`, sessions: sessions.map((s) => s.map((c) => ({ from: c.from, hex: c.data.toString('hex') }))) };
  writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
  console.log(`${name}: ${sessions.length} session(s), ${sessions.reduce((n, s) => n + s.length, 0)} chunks`);
}

function run(cmd: string, args: string[], input = '', interruptAfterMs = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(bin ?? '', cmd), args, { env: { ...process.env, PGPASSWORD: PASSWORD, PGAPPNAME: 'recorder' }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input);
    if (interruptAfterMs > 0) setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
    child.once('exit', (code) => (code === 0 || interruptAfterMs > 0 ? resolve() : reject(new Error(`${cmd}: ${stderr}`))));
  });
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

async function recorded(name: string, description: string, body: (proxy: Proxy, conninfo: string) => Promise<void>): Promise<void> {
  const proxy = await startProxy(cluster.port);
  await body(proxy, `host=127.0.0.1 port=${proxy.port} user=postgres dbname=postgres`);
  await settle();
  await proxy.close();
  save(name, description, proxy.sessions);
}

await recorded('libpq-simple', 'psql (libpq): SSLRequest refused (N), StartupMessage, SCRAM-SHA-256, a simple Query, Terminate', (_, conninfo) =>
  run('psql', [`${conninfo} sslmode=prefer`, '-X', '-A', '-t', '-c', 'SELECT 1::int4 AS one, NULL::text AS nothing']));

await recorded('libpq-extended', 'pgbench -M extended (libpq PQexecParams): unnamed Parse/Bind/Describe/Execute/Sync with one text parameter', (proxy) =>
  run('pgbench', ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-n', '-t', '1', '-M', 'extended', '-f', '-', 'postgres'], '\\set x 7\nSELECT :x::int4 AS v;\n'));

await recorded('libpq-prepared', 'pgbench -M prepared (libpq PQprepare + PQexecPrepared): named Parse, then Bind/Describe/Execute/Sync', (proxy) =>
  run('pgbench', ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-n', '-t', '2', '-M', 'prepared', '-f', '-', 'postgres'], '\\set x 7\nSELECT :x::int4 AS v;\n'));

await recorded('libpq-describe', 'psql \\gdesc (libpq PQprepare + PQdescribePrepared): Describe Statement → ParameterDescription, RowDescription', (_, conninfo) =>
  run('psql', [`${conninfo} sslmode=disable`, '-X', '-A', '-t', '-f', '-'], 'SELECT $1::int8 AS a, $2::text AS b \\gdesc\n'));

await recorded('libpq-copy', 'psql COPY TO STDOUT: CopyOutResponse, CopyData, CopyDone (never started by our client)', (_, conninfo) =>
  run('psql', [`${conninfo} sslmode=disable`, '-X', '-A', '-t', '-c', 'COPY (SELECT 1) TO STDOUT']));

await recorded('libpq-cancel', 'psql interrupted during pg_sleep: the query session and the CancelRequest session (libpq PQcancel)', (_, conninfo) =>
  run('psql', [`${conninfo} sslmode=disable`, '-X', '-A', '-t', '-c', 'SELECT pg_sleep(5)'], '', 700));

await recorded('negotiate', 'a StartupMessage with an unknown _pq_ option: NegotiateProtocolVersion, then the SASL request', (proxy) =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: proxy.port }, () => socket.write(startupMessage({ user: 'postgres', database: 'postgres', '_pq_.not_an_option': 'x' })));
    socket.on('data', () => {});
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 500);
  }));

await recorded('ours', "this client: SSLRequest refused, SCRAM, unnamed and named statements, pipelining with an error in the middle, notice, ParameterStatus, LISTEN/NOTIFY, empty query, a stale statement (Close), a timeout's CancelRequest, and a FATAL from pg_terminate_backend", async (proxy) => {
  const parsed = parsePostgresUrl(`postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${proxy.port}/postgres?sslmode=prefer&application_name=recorder`);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const opened = await Connection.open(parsed.config, { keepAliveMs: 10_000, maxFrameBytes: 1 << 20, cancelGraceMs: 5000, onNotification: () => {}, onNotice: () => {} });
  if (!opened.ok) throw opened.error;
  const c = opened.connection;
  await c.query('SELECT $1::int8 AS big, $2::text AS t, NULL::bool AS n', [9007199254740993n, 'zürich ✓']);
  await c.query('SELECT $1::int4 + 1 AS n', [1], { name: 'plus_one' });
  await c.query('SELECT $1::int4 + 1 AS n', [2], { name: 'plus_one' });
  await Promise.all([c.query('SELECT 1 AS a', []), c.query('SELECT 1/0', []), c.query('SELECT 3 AS c', [])]);
  await c.query("DO $$ BEGIN RAISE NOTICE 'hello'; END $$", []);
  await c.query("SET application_name = 'recorder 2'", []);
  await c.query('LISTEN chan', []);
  await c.query("SELECT pg_notify('chan', 'payload ✓')", []);
  await c.query('', []);
  await c.query('CREATE TEMP TABLE shape (a int)', []);
  await c.query('SELECT * FROM shape', [], { name: 'shape_all' });
  await c.query('ALTER TABLE shape ADD COLUMN b int', []);
  await c.query('SELECT * FROM shape', [], { name: 'shape_all' });
  await c.query('SELECT * FROM shape', [], { name: 'shape_all' });
  await c.query('SELECT pg_sleep(5)', [], { timeoutMs: 300 });
  await c.query('SELECT 1', []);
  cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'recorder 2'");
  await settle();
  c.destroy(new (await import('../src/storage/postgres/errors.ts')).PgError('closed', 'done'));
});

for (const fn of cleanups) fn();

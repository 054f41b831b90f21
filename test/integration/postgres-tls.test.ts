// TLS by sslmode against a real server with a certificate made by openssl for the name
// "localhost" only, signed by a test CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../src/storage/postgres/connection.ts';
import { parsePostgresUrl, type PgConnectionConfig } from '../../src/storage/postgres/client.ts';
import { havePostgres, PASSWORD, useCluster, type Cluster } from '../helpers/postgres.ts';
import { ok } from '../helpers/pg-client.ts';

const theCluster = useCluster({ tls: true });
const options = { keepAliveMs: 10_000, maxFrameBytes: 1 << 26, cancelGraceMs: 5_000 };

/** A config for a new database of its own (each test its own database). */
async function config(cluster: Cluster, host: string, query: string, user = 'postgres', password = PASSWORD, sslRootCert?: string): Promise<PgConnectionConfig> {
  const db = await cluster.createDatabase();
  const url = `postgres://${user}:${encodeURIComponent(password)}@${host}:${cluster.port}/${db}?${query}`;
  const parsed = parsePostgresUrl(url, { sslRootCert });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.join('; '));
  return parsed.config;
}

async function sslInUse(c: Connection): Promise<unknown> {
  return ok(await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [])).rows[0]?.['ssl'];
}

test('sslmode=require encrypts without checking the certificate', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const opened = await Connection.open(await config(theCluster(), '127.0.0.1', 'sslmode=require'), options);
  assert.ok(opened.ok);
  t.after(() => opened.connection.close());
  assert.equal(opened.connection.tls, true);
  assert.equal(await sslInUse(opened.connection), true);
});

test('sslmode=verify-full with the right CA (PGSSLROOTCERT) and host name connects', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const cluster = theCluster();
  const opened = await Connection.open(await config(cluster, 'localhost', 'sslmode=verify-full', 'postgres', PASSWORD, cluster.certificates?.ca), options);
  assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
  t.after(() => opened.connection.close());
  assert.equal(await sslInUse(opened.connection), true);
});

test('sslmode=verify-full with the sslrootcert URL parameter connects too', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const cluster = theCluster();
  const opened = await Connection.open(await config(cluster, 'localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(cluster.certificates?.ca ?? '')}`), options);
  assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
  await opened.connection.close();
});

test('sslmode=verify-full refuses a certificate for another host name', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const cluster = theCluster();
  const opened = await Connection.open(await config(cluster, '127.0.0.1', 'sslmode=verify-full', 'postgres', PASSWORD, cluster.certificates?.ca), options);
  assert.equal(opened.ok, false);
  if (!opened.ok) {
    assert.equal(opened.error.kind, 'tls');
    assert.match(String((opened.error.cause as { code?: string } | undefined)?.code), /ERR_TLS_CERT_ALTNAME_INVALID/);
  }
});

test('sslmode=verify-full refuses a certificate from another CA, and with the system CAs', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const cluster = theCluster();
  for (const root of [cluster.certificates?.otherCa, undefined]) {
    const opened = await Connection.open(await config(cluster, 'localhost', 'sslmode=verify-full', 'postgres', PASSWORD, root), options);
    assert.equal(opened.ok, false);
    if (!opened.ok) assert.equal(opened.error.kind, 'tls');
  }
});

test('a root certificate file that cannot be read is a tls failure naming the file', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const opened = await Connection.open(await config(theCluster(), 'localhost', 'sslmode=verify-full', 'postgres', PASSWORD, '/nonexistent/ca.pem'), options);
  assert.equal(opened.ok, false);
  if (!opened.ok) {
    assert.equal(opened.error.kind, 'tls');
    assert.match(opened.error.message, /nonexistent\/ca\.pem/);
  }
});

test('a cleartext password is accepted over TLS (and only there)', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const cluster = theCluster();
  const { name, password } = cluster.users.clear;
  const overTls = await Connection.open(await config(cluster, '127.0.0.1', 'sslmode=require', name, password), options);
  assert.ok(overTls.ok, overTls.ok ? '' : overTls.error.message);
  assert.equal(ok(await overTls.connection.query('SELECT current_user AS u', [])).rows[0]?.['u'], name);
  await overTls.connection.close();
  const plain = await Connection.open(await config(cluster, '127.0.0.1', 'sslmode=disable', name, password), options);
  assert.equal(plain.ok, false);
  if (!plain.ok) assert.equal(plain.error.kind, 'auth');
});

test('sslmode=prefer (and an absent sslmode) uses TLS when the server offers it; disable does not', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const cluster = theCluster();
  for (const [query, tls] of [['sslmode=prefer', true], ['', true], ['sslmode=disable', false]] as const) {
    const opened = await Connection.open(await config(cluster, '127.0.0.1', query), options);
    assert.ok(opened.ok);
    assert.equal(opened.connection.tls, tls, query);
    assert.equal(await sslInUse(opened.connection), tls);
    await opened.connection.close();
  }
});

test('a timed-out query is canceled over TLS too', async (t) => {
  if (!havePostgres(t, { tls: true })) return;
  const opened = await Connection.open(await config(theCluster(), '127.0.0.1', 'sslmode=require'), options);
  assert.ok(opened.ok);
  const c = opened.connection;
  t.after(() => c.close());
  const started = Date.now();
  const slow = await c.query('SELECT pg_sleep(30)', [], { timeoutMs: 200 });
  assert.equal(slow.ok, false);
  ok(await c.query('SELECT 1', []));
  assert.ok(Date.now() - started < 10_000);
});

// Start-up on PostgreSQL: check the server, migrate the schema, make (once) and read the cursor
// key, and repair the /stats totals if rows were written behind the service's back. All of it in
// one transaction under a transaction-level advisory lock, so replicas started together take turns:
// the first migrates, the others find the schema current. DDL is transactional in PostgreSQL, so a
// failed migration leaves the previous version intact.
import { randomBytes } from 'node:crypto';
import type { Param, PgClient, Tx } from '../client.ts';
import { PgError } from '../errors.ts';
import { ARRIVAL_LOCK, MIGRATION_LOCK, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

export type MigrationReport = { from: number; to: number; backfilled: number; recounted: boolean };

export type Migrated = { ok: true; report: MigrationReport; cursorKey: Uint8Array } | { ok: false; error: PgError };

/** SPEC.md: PostgreSQL 13 or later. */
export const MIN_SERVER_VERSION = 130000;
/** Migrations may wait for another replica's; a future one may rewrite a large table. */
const MIGRATION_TIMEOUT_MS = 300_000;

class Refused extends Error {}

async function must(tx: Tx, sql: string, params: readonly Param[] = []): Promise<Record<string, unknown>[]> {
  const result = await tx.query(sql, params);
  if (!result.ok) throw result.error;
  return result.rows;
}

/** The bytes of a bytea in its text form (\x…). */
export function byteaOf(value: unknown): Uint8Array {
  const text = typeof value === 'string' ? value : '';
  return /^\\x([0-9a-f]{2})*$/.test(text) ? Buffer.from(text.slice(2), 'hex') : new Uint8Array(0);
}

async function checkServer(pg: PgClient): Promise<PgError | null> {
  const info = await pg.query("SELECT current_setting('server_version_num')::int AS version, current_setting('server_encoding') AS encoding");
  if (!info.ok) return info.error;
  const row = info.rows[0] ?? {};
  if (Number(row['version']) < MIN_SERVER_VERSION) return new PgError('query', `PostgreSQL ${String(row['version'])} is too old: version 13 or later is needed`);
  if (row['encoding'] !== 'UTF8') return new PgError('query', `the database's encoding is ${String(row['encoding'])}; it must be UTF8 (CREATE DATABASE … ENCODING 'UTF8')`);
  return null;
}

/**
 * Rebuilds the totals from the table when they disagree with it, and numbers rows that have no
 * arrival (both: rows inserted or truncated by other tools). The comparison is one statement, so
 * one snapshot; the rebuild holds off writers, and numbers under the arrival lock like they do.
 */
async function reconcile(tx: Tx): Promise<boolean> {
  const check = `SELECT (SELECT count(*) FROM messages) = (SELECT COALESCE(sum(total), 0) FROM message_totals)
    AND (SELECT count(*) FROM messages) = (SELECT count(*) FROM arrivals) AS agree`;
  if ((await must(tx, check))[0]?.['agree'] === true) return false;
  await must(tx, 'LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE');
  if ((await must(tx, check))[0]?.['agree'] === true) return false;
  await must(tx, 'DELETE FROM sender_counts');
  await must(tx, 'INSERT INTO sender_counts (from_msisdn, n) SELECT from_msisdn, count(*) FROM messages GROUP BY from_msisdn');
  await must(tx, 'DELETE FROM message_totals');
  await must(tx, 'INSERT INTO message_totals (stripe, total, senders) SELECT 0, (SELECT count(*) FROM messages), (SELECT count(*) FROM sender_counts)');
  await must(tx, 'DELETE FROM arrivals a WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_id = a.message_id)');
  await must(tx, 'SELECT pg_advisory_xact_lock($1::bigint)', [ARRIVAL_LOCK]);
  await must(tx, `INSERT INTO arrivals (seq, message_id) SELECT nextval('arrival_seq'), u.message_id FROM
    (SELECT m.message_id FROM messages m WHERE NOT EXISTS (SELECT 1 FROM arrivals a WHERE a.message_id = m.message_id) ORDER BY m.created_at, m.message_id) u`);
  return true;
}

export async function migrate(pg: PgClient): Promise<Migrated> {
  const server = await checkServer(pg);
  if (server !== null) return { ok: false, error: server };
  try {
    const result = await pg.transaction(async (tx) => {
      await must(tx, 'SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      // A current schema is only read, so that a replica can start on a database that does not
      // take writes now (a standby after a failover, a full disk) and report it through readiness.
      const known = (await must(tx, "SELECT to_regclass('schema_migrations') IS NOT NULL AS known"))[0]?.['known'] === true;
      if (!known) await must(tx, 'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const from = Number((await must(tx, 'SELECT COALESCE(max(version), 0) AS v FROM schema_migrations'))[0]?.['v'] ?? 0);
      if (from > SCHEMA_VERSION) throw new Refused(`database schema version ${from} is newer than this build supports (${SCHEMA_VERSION})`);
      for (let version = from + 1; version <= SCHEMA_VERSION; version += 1) {
        for (const statement of MIGRATIONS[version - 1] ?? []) await must(tx, statement);
        await must(tx, 'INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      }
      // Made once, by whichever replica gets here first; every later start reads the same key.
      const readKey = async (): Promise<Uint8Array> => byteaOf((await must(tx, "SELECT key FROM service_keys WHERE name = 'cursor'"))[0]?.['key']);
      let cursorKey = await readKey();
      if (cursorKey.length === 0) {
        await must(tx, "INSERT INTO service_keys (name, key) VALUES ('cursor', $1) ON CONFLICT (name) DO NOTHING", [randomBytes(32)]);
        cursorKey = await readKey();
      }
      if (cursorKey.length < 32) throw new Refused('the cursor key in service_keys is shorter than 32 bytes');
      const recounted = await reconcile(tx);
      return { report: { from, to: SCHEMA_VERSION, backfilled: 0, recounted }, cursorKey };
    }, { timeoutMs: MIGRATION_TIMEOUT_MS });
    return result.ok ? { ok: true, ...result.value } : result;
  } catch (error) {
    if (error instanceof PgError) return { ok: false, error };
    if (error instanceof Refused) return { ok: false, error: new PgError('query', error.message) };
    throw error;
  }
}

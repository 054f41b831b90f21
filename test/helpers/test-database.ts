// Which database the test services use: SQLite files by default, or, with TEST_DATABASE=postgres
// (test/postgres-suite.ts sets it), a fresh PostgreSQL database for each test on one throwaway
// cluster (TEST_POSTGRES_URL, or one started for this test file when that is unset). Tests that
// need to look at the stored rows themselves use sql(), which runs the same SQL on either backend.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { createPool } from '../../src/storage/postgres/client.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/url.ts';
import { startCluster, type Cluster } from './postgres.ts';
import { tempDir } from './service.ts';

export type Backend = 'sqlite' | 'postgres';

export const testBackend = (): Backend => (process.env['TEST_DATABASE'] === 'postgres' ? 'postgres' : 'sqlite');

export type TestDatabase = {
  backend: Backend;
  /** What DATABASE_URL is set to. */
  url: string;
  /** The SQLite file; empty on PostgreSQL. */
  path: string;
  /** Runs one statement; `?` placeholders (numbered $1… on PostgreSQL); int8 values come back as numbers. */
  sql(text: string, params?: readonly (string | number | null)[]): Promise<Record<string, unknown>[]>;
};

let cluster: Promise<Cluster> | undefined;
let databases = 0;

/** The superuser URL of the cluster the tests share, for any database on it. */
async function clusterUrl(database: string): Promise<string> {
  const shared = process.env['TEST_POSTGRES_URL'];
  if (shared !== undefined && shared !== '') {
    const q = shared.indexOf('?');
    const base = q === -1 ? shared : shared.slice(0, q);
    return `${base.slice(0, base.lastIndexOf('/'))}/${database}${q === -1 ? '' : shared.slice(q)}`;
  }
  // A cluster of this test file's own, stopped when the process exits (startCluster's hook).
  cluster ??= startCluster({ after: () => {} });
  return (await cluster).url(database, 'sslmode=disable');
}

export async function pgQuery(url: string, text: string, params: readonly (string | number | null)[] = []): Promise<Record<string, unknown>[]> {
  const parsed = parsePostgresUrl(url);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const pg = createPool(parsed.config, { options: { size: 1 } });
  try {
    let n = 0;
    const result = await pg.query(text.replace(/\?/g, () => `$${++n}`), params);
    if (!result.ok) throw result.error;
    return result.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    await pg.close();
  }
}

function sqliteQuery(path: string, text: string, params: readonly (string | number | null)[] = []): Record<string, unknown>[] {
  const db = new DatabaseSync(path);
  try {
    const statement = db.prepare(text);
    return /^\s*(SELECT|WITH)\b/i.test(text) ? statement.all(...(params as SQLInputValue[])) : (statement.run(...(params as SQLInputValue[])), []);
  } finally {
    db.close();
  }
}

/** A new, empty database on the backend under test; a SQLite file is removed when `t` ends. */
export async function newTestDatabase(t: { after(fn: () => unknown): void }, backend: Backend = testBackend()): Promise<TestDatabase> {
  if (backend === 'sqlite') {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    return sqliteDatabase(join(dir, 'app.db'));
  }
  const name = `t_${process.pid}_${++databases}`;
  await pgQuery(await clusterUrl('postgres'), `CREATE DATABASE ${name}`);
  return postgresDatabase(await clusterUrl(name));
}

export function sqliteDatabase(path: string): TestDatabase {
  return { backend: 'sqlite', url: path, path, sql: async (text, params) => sqliteQuery(path, text, params) };
}

export function postgresDatabase(url: string): TestDatabase {
  return { backend: 'postgres', url, path: '', sql: (text, params) => pgQuery(url, text, params) };
}

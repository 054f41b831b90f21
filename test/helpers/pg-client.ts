// Shortcuts for tests of the PostgreSQL client: a parsed config for a test database, a pool that is
// closed when the test ends, and a result that must be ok.
import assert from 'node:assert/strict';
import { createPool, parsePostgresUrl, type PgClient, type PgConnectionConfig, type PoolOptions, type QueryResult, type QueryOk } from '../../src/storage/postgres/client.ts';
import type { PgError } from '../../src/storage/postgres/errors.ts';
import type { Cluster } from './postgres.ts';

type After = { after(fn: () => unknown): void };

export function configFor(cluster: Cluster, database: string, query = ''): PgConnectionConfig {
  const parsed = parsePostgresUrl(cluster.url(database, query));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.join('; '));
  return parsed.config;
}

export type TestPool = PgClient & { errors: PgError[] };

export function poolFor(t: After, config: PgConnectionConfig, options: Partial<PoolOptions> = {}): TestPool {
  const errors: PgError[] = [];
  const pool = createPool(config, { onError: (e) => errors.push(e), options });
  t.after(() => pool.close());
  return Object.assign(pool, { errors });
}

export function ok(result: QueryResult): QueryOk {
  if (!result.ok) assert.fail(`query failed: ${result.error.kind} ${result.error.sqlstate ?? ''} ${result.error.message}`);
  return result;
}

export function failed(result: QueryResult): PgError {
  assert.equal(result.ok, false, 'the query should have failed');
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

/** Resolves when `check` returns true, polling every 20 ms; fails after `ms`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

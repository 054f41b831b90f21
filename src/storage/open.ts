// The one place that knows which backend runs: opens the Store DATABASE_URL names (config.ts
// parsed it) and says what to put on the `database ready` line. Everything else sees a Store.
import type { DatabaseTarget } from '../config.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import { openPostgresStore } from './postgres/store/pg-store.ts';
import { databaseAccessHint } from './sqlite/access-hint.ts';
import { openWorkerStore } from './sqlite/worker-store.ts';
import type { Store } from './store.ts';

export type StoreOptions = {
  now: () => Date;
  logger: Logger;
  /** SQLite: how long a statement waits for another connection's lock. */
  busyTimeoutMs?: number;
};

/** The `database ready` fields: which backend, where (never a password), and what the migration did. */
export type OpenedStore = { store: Store; ready: LogFields };

/** Connection trouble the pool meets between requests is logged, at most once per this many ms per kind. */
const ERROR_LOG_INTERVAL_MS = 10_000;

export async function openConfiguredStore(target: DatabaseTarget, options: StoreOptions): Promise<OpenedStore> {
  if (target.kind === 'sqlite') {
    const { store, migration } = await openWorkerStore({ path: target.path, now: options.now, ...(options.busyTimeoutMs !== undefined && { busyTimeoutMs: options.busyTimeoutMs }) });
    return { store, ready: { backend: 'sqlite', schema_from: migration.from, schema_version: migration.to, backfilled_rows: migration.backfilled, recounted: migration.recounted } };
  }
  const { connection } = target;
  const lastLogged = new Map<string, number>();
  const { store, migration } = await openPostgresStore({
    connection,
    poolSize: target.poolSize,
    now: options.now,
    onError(error) {
      // Only the kind and SQLSTATE: a server's detail may repeat row data.
      const now = Date.now();
      if (now - (lastLogged.get(error.kind) ?? -Infinity) < ERROR_LOG_INTERVAL_MS) return;
      lastLogged.set(error.kind, now);
      options.logger.warn('database connection problem', { ...error.logFields(), error: error.message });
    },
    onSearchIndex(state) {
      const fields = { search_index: state };
      if (state === 'failed' || state === 'no pg_trgm') options.logger.warn('search index unavailable: q is answered by a scan', fields);
      else options.logger.info('search index', fields);
    },
  });
  return {
    store,
    ready: {
      backend: 'postgres',
      host: connection.host,
      port: connection.port,
      database: connection.database,
      user: connection.user,
      sslmode: connection.sslmode,
      pool_size: target.poolSize,
      schema_from: migration.from,
      schema_version: migration.to,
      backfilled_rows: migration.backfilled,
      recounted: migration.recounted,
    },
  };
}

/** A sentence for the `could not start` line when the database could not be opened, or undefined. */
export function openHint(target: DatabaseTarget): string | undefined {
  return target.kind === 'sqlite' ? databaseAccessHint(target.path) : undefined;
}

// The Store on PostgreSQL, for several replicas sharing one database: the same behaviour as the
// SQLite Store (test/contract/store-suite.ts runs against both). Reads are single statements on the
// pool; inserts are group-committed (writer.ts); live tails hear of every replica's commits through
// LISTEN/NOTIFY (feed.ts). A lost connection fails the calls that needed it (503s) and the pool
// reconnects by itself, with backoff, so the service recovers without a restart.
import { randomBytes } from 'node:crypto';
import { createPool, type PgConnectionConfig, type PgError } from '../client.ts';
import type { Store } from '../../store.ts';
import { createFeed } from './feed.ts';
import { migrate, type MigrationReport } from './migrate.ts';
import { PING } from './queries.ts';
import { createReads } from './reads.ts';
import { buildSearchIndexInBackground, type SearchIndexState } from './search-index.ts';
import { ARRIVALS_CHANNEL } from './schema.ts';
import { createWriter, type Writer } from './writer.ts';

export type PostgresStoreOptions = {
  connection: PgConnectionConfig;
  poolSize: number;
  now: () => Date;
  /** Connection and server errors the pool meets on its own (a lost connection, a failed reconnect). */
  onError?: (error: PgError) => void;
  /** How the check or build of q's trigram index (search-index.ts) ended; it runs after the store is open. */
  onSearchIndex?: (state: SearchIndexState) => void;
};

/** Readiness asks at most this long; a database slower than that is not answering. */
const PING_TIMEOUT_MS = 3_000;

export type PostgresStore = { store: Store; migration: MigrationReport; writer: Writer };

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const pg = createPool(options.connection, {
    options: { size: options.poolSize },
    ...(options.onError !== undefined && { onError: options.onError }),
  });
  const migrated = await migrate(pg);
  if (!migrated.ok) {
    await pg.close();
    throw migrated.error;
  }
  const reads = createReads(pg);
  const feed = createFeed(randomBytes(8).toString('hex'), reads.batch);
  const listened = await pg.listen(ARRIVALS_CHANNEL, (payload) => feed.notified(payload), () => feed.up(), () => feed.down());
  if (!listened.ok) {
    await pg.close();
    throw listened.error;
  }
  feed.up();
  const writer = createWriter(pg, feed, options.now);
  await writer.writable(); // one probe write now: readiness knows at once whether writes work
  const searchIndex = buildSearchIndexInBackground(options.connection, (state) => options.onSearchIndex?.(state));
  let closing: Promise<void> | undefined;

  const store: Store = {
    async insert(message) {
      return (await writer.insertMany([message]))[0] ?? { ok: false, error: new Error('no answer') };
    },
    insertMany: (messages) => writer.insertMany(messages),
    list: (filter) => reads.list(filter),
    scan: (filter, after, limit) => reads.scan(filter, after, limit),
    replay: (after, filter, limit) => reads.replay(after, filter, limit),
    subscribe: (listener) => feed.subscribe(listener),
    cursorKey: migrated.cursorKey,
    stats: () => reads.stats(),
    async ping() {
      return (await pg.query(PING.sql, PING.params, { name: PING.name, timeoutMs: PING_TIMEOUT_MS })).ok;
    },
    writable: () => writer.writable(),
    close() {
      closing ??= (async () => {
        await writer.close();
        searchIndex.close();
        await pg.close();
      })();
      return closing;
    },
  };
  return { store, migration: migrated.report, writer };
}

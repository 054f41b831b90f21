// The pg_trgm GIN index on text_fold that serves q (LIKE '%…%' with the pattern escaped, queries.ts),
// built after start-up with CREATE INDEX CONCURRENTLY on a connection of its own, so start-up does
// not wait for it, ingest goes on while it is built, and the pool keeps all its connections. Every
// start checks it: present and valid, nothing to do; absent, built; left invalid by a build that
// was interrupted (and is not running on another replica), dropped and built again. Without
// pg_trgm (migration 2 could not install it) q stays a scan. Results are the same either way:
// the index only changes the plan.
import { createPool, type PgClient, type PgConnectionConfig, type QueryResult } from '../client.ts';

export const SEARCH_INDEX = 'messages_text_fold_trgm_idx';
/** A build at a million rows takes about a minute; this bounds a stuck one. */
const BUILD_TIMEOUT_MS = 3_600_000;

export type SearchIndexState = 'present' | 'built' | 'building elsewhere' | 'no pg_trgm' | 'failed';

const rowsOf = (r: QueryResult): Record<string, unknown>[] => (r.ok ? r.rows : []);

export async function ensureSearchIndex(pg: PgClient): Promise<SearchIndexState> {
  const ext = await pg.query("SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'");
  if (!ext.ok) return 'failed';
  const schema = rowsOf(ext)[0]?.['schema'];
  if (typeof schema !== 'string') return 'no pg_trgm';
  const found = await pg.query(
    `SELECT i.indisvalid AS valid, EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.relid = 'messages'::regclass) AS building
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname = $1 AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'messages'::regclass)`,
    [SEARCH_INDEX],
  );
  if (!found.ok) return 'failed';
  const row = rowsOf(found)[0];
  if (row !== undefined) {
    if (row['valid'] === true) return 'present';
    if (row['building'] === true) return 'building elsewhere';
    const dropped = await pg.query(`DROP INDEX CONCURRENTLY IF EXISTS ${SEARCH_INDEX}`);
    if (!dropped.ok) return 'failed';
  }
  const quoted = `"${schema.replaceAll('"', '""')}"`;
  const built = await pg.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${SEARCH_INDEX} ON messages USING gin (text_fold ${quoted}.gin_trgm_ops)`, [], { timeoutMs: BUILD_TIMEOUT_MS });
  return built.ok ? 'built' : 'failed';
}

/**
 * Runs ensureSearchIndex on a one-connection pool of its own. close() does not wait for a build in
 * progress (a minute at 1M rows, longer than a stop may take): the pool closes once it is answered,
 * or the process exits first and the server finishes the build without its client (a server
 * notices a gone client only when it next writes to it) or leaves it invalid for the next start.
 */
export function buildSearchIndexInBackground(connection: PgConnectionConfig, done: (state: SearchIndexState) => void): { close(): void } {
  const pg = createPool(connection, { options: { size: 1 } });
  let closed = false;
  void ensureSearchIndex(pg)
    .catch((): SearchIndexState => 'failed')
    .then(async (state) => {
      if (!closed) done(state);
      await pg.close();
    });
  return {
    close() {
      closed = true;
      void pg.close();
    },
  };
}

// Keeps the trigram index (migration 6, search.ts) up with the table, off the request path: the
// writer calls step() when it has no inserts waiting. A step is one short transaction: the next
// ROWS rows above the watermark go into the index (FTS5 merges its segments as part of it) and the
// watermark moves past them. A database of any size is indexed this way after the upgrade, step by
// step, with inserts served in between. A step commits without its own fsync (synchronous=NORMAL
// for that transaction): the index is derived data, and in WAL mode the next insert's fsync makes
// it durable with everything before it; after a power loss a step is at worst lost whole, index and
// watermark together, and done again.
import type { DatabaseSync } from 'node:sqlite';

/** Rows per indexing step: ≈ 2–3 ms of work, so a batch waiting behind one waits little (BENCHMARKS.md, issue 13). */
export const ROWS = 250;

export type SearchIndexer = {
  /** One step of work, in its own transaction; true when more work is waiting. Throws on failure. */
  step(): boolean;
};

export function createSearchIndexer(conn: DatabaseSync, rowsPerStep = ROWS): SearchIndexer {
  const upto = conn.prepare('SELECT indexed_upto AS n FROM search_state WHERE id = 1');
  const lastOfNext = conn.prepare('SELECT max(rowid) AS n, count(*) AS c FROM (SELECT rowid FROM messages WHERE rowid > ? ORDER BY rowid LIMIT ?)');
  const add = conn.prepare('INSERT INTO messages_search (rowid, text_fold) SELECT rowid, text_fold FROM messages WHERE rowid > ? AND rowid <= ? AND text_fold IS NOT NULL');
  const mark = conn.prepare('UPDATE search_state SET indexed_upto = ? WHERE id = 1');
  const num = (row: Record<string, unknown> | undefined, key = 'n'): number => Number(row?.[key] ?? 0);

  return {
    step() {
      conn.exec('PRAGMA synchronous = NORMAL');
      try {
        return indexRows();
      } finally {
        conn.exec('PRAGMA synchronous = FULL');
      }
    },
  };

  function indexRows(): boolean {
    conn.exec('BEGIN IMMEDIATE');
    try {
      const from = num(upto.get());
      const next = lastOfNext.get(from, rowsPerStep);
      const to = num(next);
      if (to > from) {
        add.run(from, to);
        mark.run(to);
      }
      conn.exec('COMMIT');
      return num(next, 'c') === rowsPerStep;
    } catch (err) {
      if (conn.isTransaction) conn.exec('ROLLBACK');
      throw err;
    }
  }
}

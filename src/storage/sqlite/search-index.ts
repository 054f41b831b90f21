// Keeps the trigram index (migration 6, search.ts) up with the table, off the request path: the
// writer calls step() when it has no inserts waiting. A step is one short transaction: the next
// ROWS rows above the watermark go into the index and the watermark moves past them, or, when the
// index has caught up, FTS5 merges about MERGE_PAGES pages of its segments (automatic merging is
// off, so no insert ever waits for a merge). A database of any size is indexed this way after the
// upgrade, step by step, with inserts served in between.
import type { DatabaseSync } from 'node:sqlite';

/** Rows per indexing step: ≈ 10–25 ms of work (see BENCHMARKS.md, issue 13). */
export const ROWS = 1_000;
/** Pages written per merge step. */
export const MERGE_PAGES = 64;

export type SearchIndexer = {
  /** One step of work, in its own transaction; true when more work is waiting. Throws on failure. */
  step(): boolean;
  /** Rows above the watermark (at most `limit` counted). */
  backlog(limit: number): number;
};

export function createSearchIndexer(conn: DatabaseSync, rowsPerStep = ROWS): SearchIndexer {
  const upto = conn.prepare('SELECT indexed_upto AS n FROM search_state WHERE id = 1');
  const lastOfNext = conn.prepare('SELECT max(rowid) AS n FROM (SELECT rowid FROM messages WHERE rowid > ? ORDER BY rowid LIMIT ?)');
  const add = conn.prepare('INSERT INTO messages_search (rowid, text_fold) SELECT rowid, text_fold FROM messages WHERE rowid > ? AND rowid <= ? AND text_fold IS NOT NULL');
  const mark = conn.prepare('UPDATE search_state SET indexed_upto = ? WHERE id = 1');
  const merge = conn.prepare("INSERT INTO messages_search (messages_search, rank) VALUES ('merge', ?)");
  const changes = conn.prepare('SELECT total_changes() AS n');
  const pending = conn.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages WHERE rowid > (SELECT indexed_upto FROM search_state WHERE id = 1) LIMIT ?)');
  const num = (row: Record<string, unknown> | undefined): number => Number(row?.['n'] ?? 0);
  let merging = true; // merge once after start-up: a previous run may have stopped mid-way

  function transaction<T>(work: () => T): T {
    conn.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      conn.exec('COMMIT');
      return result;
    } catch (err) {
      if (conn.isTransaction) conn.exec('ROLLBACK');
      throw err;
    }
  }

  return {
    step() {
      const indexed = transaction(() => {
        const from = num(upto.get());
        const to = num(lastOfNext.get(from, rowsPerStep));
        if (to <= from) return false;
        add.run(from, to);
        mark.run(to);
        return true;
      });
      if (indexed) {
        merging = true;
        return true;
      }
      if (!merging) return false;
      // "If the difference [in total_changes()] is 2 or greater, then work was performed" (FTS5 docs).
      merging = transaction(() => {
        const before = num(changes.get());
        merge.run(MERGE_PAGES);
        return num(changes.get()) - before >= 2;
      });
      return merging;
    },
    backlog(limit) {
      return num(pending.get(limit));
    },
  };
}

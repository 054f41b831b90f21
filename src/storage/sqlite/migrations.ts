// Schema versioned with PRAGMA user_version and migrated at start-up, each step in its own
// transaction. Version 1 is the earlier service's table as it was, so a database file it created
// (user_version 0, table present) is upgraded in place by the later steps with every row kept.
import type { DatabaseSync } from 'node:sqlite';
import { foldText } from '../../domain/fold.ts';
import { legacyInstantKey } from './legacy-ts.ts';

type Step = string | ((db: DatabaseSync) => void);

const MIGRATIONS: readonly Step[] = [
  // 1: the earlier service's schema, unchanged (its columns stay so its data and ad-hoc SQL keep working).
  `CREATE TABLE IF NOT EXISTS messages (
     message_id TEXT PRIMARY KEY,
     from_msisdn TEXT NOT NULL,
     to_msisdn TEXT NOT NULL,
     ts TEXT NOT NULL,
     text TEXT,
     created_at TEXT NOT NULL
   )`,
  // 2: an ordering key for the instant of ts, a case-folded copy of text for search, and indexes
  //    that serve the list order with and without a sender filter.
  `ALTER TABLE messages ADD COLUMN ts_key TEXT;
   ALTER TABLE messages ADD COLUMN text_fold TEXT;
   CREATE INDEX IF NOT EXISTS messages_ts_key_idx ON messages (ts_key, message_id);
   CREATE INDEX IF NOT EXISTS messages_from_ts_key_idx ON messages (from_msisdn, ts_key, message_id);`,
  // 3: running totals for /stats, so it reads a few rows at any table size. The writer adds each
  //    batch's counts in the batch's own transaction (database.ts); triggers cover what ad-hoc SQL
  //    deletes or moves, and reconcile() repairs rows inserted behind the service's back.
  //    write_probe is where readiness tries a write after one failed (it is always empty).
  `CREATE TABLE write_probe (id INTEGER PRIMARY KEY, data BLOB);
   CREATE TABLE message_totals (id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL, senders INTEGER NOT NULL);
   INSERT INTO message_totals (id, total, senders) VALUES (1, 0, 0);
   CREATE TABLE sender_counts (from_msisdn TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX sender_counts_top_idx ON sender_counts (n DESC, from_msisdn);
   CREATE TRIGGER messages_counts_ad AFTER DELETE ON messages BEGIN
     UPDATE sender_counts SET n = n - 1 WHERE from_msisdn = OLD.from_msisdn;
     UPDATE message_totals SET total = total - 1,
       senders = senders - (SELECT n = 0 FROM sender_counts WHERE from_msisdn = OLD.from_msisdn) WHERE id = 1;
     DELETE FROM sender_counts WHERE from_msisdn = OLD.from_msisdn AND n = 0;
   END;
   CREATE TRIGGER messages_counts_au AFTER UPDATE OF from_msisdn ON messages WHEN OLD.from_msisdn IS NOT NEW.from_msisdn BEGIN
     UPDATE sender_counts SET n = n - 1 WHERE from_msisdn = OLD.from_msisdn;
     UPDATE message_totals SET senders = senders - (SELECT n = 0 FROM sender_counts WHERE from_msisdn = OLD.from_msisdn) WHERE id = 1;
     DELETE FROM sender_counts WHERE from_msisdn = OLD.from_msisdn AND n = 0;
     INSERT INTO sender_counts (from_msisdn, n) VALUES (NEW.from_msisdn, 1) ON CONFLICT (from_msisdn) DO UPDATE SET n = n + 1;
     UPDATE message_totals SET senders = senders + (SELECT n = 1 FROM sender_counts WHERE from_msisdn = NEW.from_msisdn) WHERE id = 1;
   END;`,
  // 4: the arrival sequence and the cursor key. A message's seq is its rowid, which SQLite would hand
  //    out again after the newest rows are deleted; last_seq remembers the highest one ever deleted
  //    (the delete trigger keeps it), and the writer numbers new rows above both (database.ts), so a
  //    seq is never reused. service_keys holds the key that signs list cursors: made here, once,
  //    in the database, so cursors stay valid across restarts and every process on the file.
  `ALTER TABLE message_totals ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE service_keys (name TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID;
   INSERT INTO service_keys (name, key) VALUES ('cursor', randomblob(32));
   DROP TRIGGER messages_counts_ad;
   CREATE TRIGGER messages_counts_ad AFTER DELETE ON messages BEGIN
     UPDATE sender_counts SET n = n - 1 WHERE from_msisdn = OLD.from_msisdn;
     UPDATE message_totals SET total = total - 1, last_seq = max(last_seq, OLD.rowid),
       senders = senders - (SELECT n = 0 FROM sender_counts WHERE from_msisdn = OLD.from_msisdn) WHERE id = 1;
     DELETE FROM sender_counts WHERE from_msisdn = OLD.from_msisdn AND n = 0;
   END;`,
  // 5: text_fold again for texts with the characters the earlier fold got wrong (ẞ, ı, Cherokee;
  //    issue 14), so q finds them as full Unicode case folding says.
  refold,
  // 6: a trigram index for q (search.ts), filled off the request path by the writer in batches up
  //    to search_state.indexed_upto (search-index.ts), starting empty: rows above the watermark are
  //    scanned, so an upgraded database answers q correctly while its index is built. FTS5 merges
  //    segments once 8 of a level exist (its default, 4, cost a third more CPU per row for 1.5x
  //    faster common terms; BENCHMARKS.md, issue 13). The triggers keep indexed rows right when
  //    ad-hoc SQL deletes them or changes their text_fold or rowid. The service numbers new rows above
  //    every rowid ever used, so only an insert by hand with an explicit, reused rowid could land
  //    below the mark: there is no insert trigger (it cost 2 µs per row); README says how to rebuild.
  `CREATE VIRTUAL TABLE messages_search USING fts5(text_fold, content='', contentless_delete=1, tokenize='trigram case_sensitive 1', detail=full);
   INSERT INTO messages_search (messages_search, rank) VALUES ('automerge', 8);
   CREATE TABLE search_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_upto INTEGER NOT NULL);
   INSERT INTO search_state (id, indexed_upto) VALUES (1, 0);
   CREATE TRIGGER messages_search_ad AFTER DELETE ON messages
     WHEN OLD.rowid <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
     DELETE FROM messages_search WHERE rowid = OLD.rowid;
   END;
   CREATE TRIGGER messages_search_au AFTER UPDATE ON messages
     WHEN (OLD.text_fold IS NOT NEW.text_fold OR OLD.rowid <> NEW.rowid)
      AND min(OLD.rowid, NEW.rowid) <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
     DELETE FROM messages_search WHERE rowid = OLD.rowid;
     INSERT INTO messages_search (rowid, text_fold) SELECT NEW.rowid, NEW.text_fold
       WHERE NEW.text_fold IS NOT NULL AND NEW.rowid <= (SELECT indexed_upto FROM search_state WHERE id = 1);
   END;`,
];

/** The characters whose fold changed in version 5 (GLOB classes match code points, not bytes). */
const REFOLD_GLOB = '*[ẞıᎠ-Ᏽᏸ-ᏽꭰ-ꮿ]*';

function refold(db: DatabaseSync): void {
  const rows = db.prepare('SELECT message_id, text FROM messages WHERE text GLOB ?').all(REFOLD_GLOB);
  const update = db.prepare('UPDATE messages SET text_fold = ? WHERE message_id = ?');
  for (const row of rows) update.run(foldText(String(row['text'])), String(row['message_id']));
}

export const SCHEMA_VERSION = MIGRATIONS.length;

function inTransaction(db: DatabaseSync, work: () => void): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    work();
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Fills the derived columns of rows that lack them: rows of an upgraded database, and rows written
 * by the earlier service if it was run against this file again. Safe to run at every start.
 */
function backfill(db: DatabaseSync): number {
  const rows = db.prepare('SELECT message_id, ts, text FROM messages WHERE ts_key IS NULL').all();
  if (rows.length === 0) return 0;
  const update = db.prepare('UPDATE messages SET ts_key = ?, text_fold = ? WHERE message_id = ?');
  inTransaction(db, () => {
    for (const row of rows) {
      const text = typeof row['text'] === 'string' ? row['text'] : null;
      update.run(legacyInstantKey(String(row['ts'])), text === null ? null : foldText(text), String(row['message_id']));
    }
  });
  return rows.length;
}

export type MigrationReport = { from: number; to: number; backfilled: number; recounted: boolean };

export function migrate(db: DatabaseSync): MigrationReport {
  const read = (): number => Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  const from = read();
  if (from > SCHEMA_VERSION) {
    throw new Error(`database schema version ${from} is newer than this build supports (${SCHEMA_VERSION})`);
  }
  for (let version = from + 1; version <= SCHEMA_VERSION; version += 1) {
    inTransaction(db, () => {
      const step = MIGRATIONS[version - 1] ?? '';
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.exec(`PRAGMA user_version = ${version}`);
    });
  }
  const backfilled = backfill(db);
  return { from, to: SCHEMA_VERSION, backfilled, recounted: reconcile(db) };
}

/**
 * Rebuilds the /stats totals when they disagree with the table: after the upgrade to version 3,
 * and after rows were inserted by something else (the earlier service, ad-hoc SQL). One COUNT(*)
 * at start-up; the rebuild only when needed. Returns whether it rebuilt.
 */
function reconcile(db: DatabaseSync): boolean {
  const counted = Number(db.prepare('SELECT COUNT(*) AS n FROM messages').get()?.['n'] ?? 0);
  const kept = Number(db.prepare('SELECT total FROM message_totals WHERE id = 1').get()?.['total'] ?? -1);
  if (counted === kept) return false;
  inTransaction(db, () => {
    db.exec(`DELETE FROM sender_counts;
             INSERT INTO sender_counts (from_msisdn, n) SELECT from_msisdn, COUNT(*) FROM messages GROUP BY from_msisdn;
             UPDATE message_totals SET total = (SELECT COUNT(*) FROM messages), senders = (SELECT COUNT(*) FROM sender_counts) WHERE id = 1;`);
  });
  return true;
}

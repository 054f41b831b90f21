// Schema versioned with PRAGMA user_version and migrated at start-up, each step in its own
// transaction. Version 1 is the earlier service's table as it was, so a database file it created
// (user_version 0, table present) is upgraded in place by the later steps with every row kept.
import type { DatabaseSync } from 'node:sqlite';
import { foldText } from '../domain/fold.ts';
import { legacyInstantKey } from './legacy-ts.ts';

const MIGRATIONS: readonly string[] = [
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
  // 3: what /stats and `q` need without reading the whole table. Triggers keep the aggregates and
  //    the search index in the same transaction as every insert, delete or update, including ad-hoc
  //    SQL and the earlier service's writes. The trigram index is on text_fold and external-content
  //    (keyed by rowid, which VACUUM keeps in this SQLite; a test checks it), so text is stored once.
  `CREATE TABLE message_totals (id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL, senders INTEGER NOT NULL);
   CREATE TABLE sender_counts (from_msisdn TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX sender_counts_top_idx ON sender_counts (n DESC, from_msisdn);
   INSERT INTO sender_counts (from_msisdn, n) SELECT from_msisdn, COUNT(*) FROM messages GROUP BY from_msisdn;
   INSERT INTO message_totals (id, total, senders) VALUES (1, (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM sender_counts));
   CREATE TRIGGER messages_counts_ai AFTER INSERT ON messages BEGIN
     INSERT INTO sender_counts (from_msisdn, n) VALUES (NEW.from_msisdn, 1) ON CONFLICT (from_msisdn) DO UPDATE SET n = n + 1;
     UPDATE message_totals SET total = total + 1,
       senders = senders + (SELECT n = 1 FROM sender_counts WHERE from_msisdn = NEW.from_msisdn) WHERE id = 1;
   END;
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
   END;
   CREATE VIRTUAL TABLE messages_fts USING fts5(text_fold, content='messages', content_rowid='rowid', tokenize='trigram case_sensitive 1', detail=none);
   INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
   CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN NEW.text_fold IS NOT NULL BEGIN
     INSERT INTO messages_fts (rowid, text_fold) VALUES (NEW.rowid, NEW.text_fold);
   END;
   CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN OLD.text_fold IS NOT NULL BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text_fold) VALUES ('delete', OLD.rowid, OLD.text_fold);
   END;
   CREATE TRIGGER messages_fts_au AFTER UPDATE OF text_fold ON messages BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text_fold) SELECT 'delete', OLD.rowid, OLD.text_fold WHERE OLD.text_fold IS NOT NULL;
     INSERT INTO messages_fts (rowid, text_fold) SELECT NEW.rowid, NEW.text_fold WHERE NEW.text_fold IS NOT NULL;
   END;`,
];

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

export type MigrationReport = { from: number; to: number; backfilled: number };

export function migrate(db: DatabaseSync): MigrationReport {
  const read = (): number => Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  const from = read();
  if (from > SCHEMA_VERSION) {
    throw new Error(`database schema version ${from} is newer than this build supports (${SCHEMA_VERSION})`);
  }
  for (let version = from + 1; version <= SCHEMA_VERSION; version += 1) {
    inTransaction(db, () => {
      db.exec(MIGRATIONS[version - 1] ?? '');
      db.exec(`PRAGMA user_version = ${version}`);
    });
  }
  return { from, to: SCHEMA_VERSION, backfilled: backfill(db) };
}

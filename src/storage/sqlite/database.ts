// One node:sqlite connection and every statement the service runs on it. Synchronous, so it runs
// inside a storage worker (worker.ts), never on the thread that serves HTTP. Statements are
// prepared once and take parameters only; failures throw, and the worker turns them into values.
// WAL lets the reader connection and the writer proceed together; synchronous=FULL makes a
// COMMIT durable before any 200 is sent.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { foldText } from '../../domain/fold.ts';
import { isStorageFault, RowError, unwrap } from './errors.ts';
import { migrate, type MigrationReport } from './migrations.ts';
import { createReads, type Reads } from './reads.ts';
import { createSearchIndexer } from './search-index.ts';
import type { Failed, NewMessage } from '../store.ts';

export type DatabaseOptions = {
  path: string;
  /** How long a statement waits for another connection's lock before failing (a 503). */
  busyTimeoutMs: number;
  /** The writer migrates the schema; a reader opens read-only and never writes. */
  role: 'writer' | 'reader';
  /** Caps the file at this many pages (PRAGMA max_page_count): how tests fill the "disk". */
  maxPageCount?: number;
};

/** The writer's answer per message: a created one carries its seq (its rowid: the arrival sequence). */
export type WriteResult = { ok: true; created: true; seq: number } | { ok: true; created: false } | Failed;

export type Database = Reads & {
  /**
   * Inserts in one transaction and one fsync; per message: created (with its seq), duplicate, or
   * failed. A failure of the transaction itself (lock timeout, full disk, I/O) fails every message in it.
   */
  insertBatch(messages: readonly NewMessage[]): WriteResult[];
  /**
   * One step of keeping the search index up with the table (search-index.ts), in its own
   * transaction; true when more work is waiting. The writer runs it when no insert is waiting.
   */
  indexStep(): boolean;
  /** The key that signs list cursors (service_keys, made by migration 4). */
  cursorKey(): Uint8Array;
  /** Throws unless the messages table answers a query. */
  ping(): void;
  /**
   * False while the database cannot take writes: the last write failed for lack of space, a
   * read-only file or an I/O error, and a probe write (as large as the largest message) still fails.
   */
  writable(): boolean;
  close(): void;
};

type Row = Record<string, SQLInputValue>;

/** Bytes the probe writes: more than the largest message (4,096 code points of 4 UTF-8 bytes, twice). */
export const PROBE_BYTES = 2 * 4 * 4096;

const num = (row: Row | undefined, key: string): number => Number(row?.[key] ?? 0);

export function openDatabase(options: DatabaseOptions): { db: Database; migration: MigrationReport | null } {
  const memory = options.path === ':memory:';
  const writer = options.role === 'writer';
  if (writer && !memory) mkdirSync(dirname(options.path), { recursive: true });
  const conn = new DatabaseSync(options.path, { readOnly: !writer });
  let migration: MigrationReport | null = null;
  try {
    conn.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
    if (writer) {
      conn.exec('PRAGMA journal_mode = WAL');
      conn.exec('PRAGMA synchronous = FULL');
      migration = migrate(conn);
      if (options.maxPageCount !== undefined) conn.exec(`PRAGMA max_page_count = ${Math.max(1, Math.trunc(options.maxPageCount))}`);
    }
  } catch (err) {
    conn.close();
    throw err;
  }

  // The rowid is given (see insertRows), so a seq is never one SQLite would reuse.
  const insert = conn.prepare(
    `INSERT INTO messages (rowid, message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
  );
  const highestSeq = conn.prepare(
    'SELECT max(COALESCE((SELECT max(rowid) FROM messages), 0), COALESCE((SELECT last_seq FROM message_totals WHERE id = 1), 0)) AS seq',
  );
  const cursorKey = conn.prepare("SELECT key FROM service_keys WHERE name = 'cursor'");
  const addSender = conn.prepare(
    'INSERT INTO sender_counts (from_msisdn, n) VALUES (?, ?) ON CONFLICT (from_msisdn) DO UPDATE SET n = n + excluded.n RETURNING n',
  );
  const addTotals = conn.prepare('UPDATE message_totals SET total = total + ?, senders = senders + ? WHERE id = 1');
  const ping = conn.prepare('SELECT 1 FROM messages LIMIT 1');
  // Prepared once, not parsed again for every transaction.
  const begin = conn.prepare('BEGIN IMMEDIATE');
  const commit = conn.prepare('COMMIT');
  let writeFailed = false;
  const reads = createReads(conn);
  const indexer = writer ? createSearchIndexer(conn) : null;

  /**
   * Inserts rows and adds the new ones to the /stats totals: one update per sender, not per row.
   * New rows are numbered above the highest seq ever used (one lookup per transaction; no other
   * connection can write inside BEGIN IMMEDIATE). Returns each row's seq, or 0 for a duplicate.
   */
  function insertRows(rows: readonly SQLInputValue[][]): number[] {
    let next = num(highestSeq.get(), 'seq') + 1;
    const seqs: number[] = [];
    const perSender = new Map<string, number>();
    let added = 0;
    for (const row of rows) {
      const [messageId, from, to, ts, text, createdAt, tsKey, textFold] = row;
      const created = Number(insert.run(next, messageId ?? null, from ?? null, to ?? null, ts ?? null, text ?? null, createdAt ?? null, tsKey ?? null, textFold ?? null).changes) === 1;
      seqs.push(created ? next++ : 0);
      if (!created) continue;
      added += 1;
      perSender.set(String(from), (perSender.get(String(from)) ?? 0) + 1);
    }
    let newSenders = 0;
    for (const [from, n] of perSender) {
      if (num(addSender.get(from, n), 'n') === n) newSenders += 1;
    }
    if (added > 0) addTotals.run(added, newSenders);
    return seqs;
  }

  /**
   * Runs `write` in BEGIN IMMEDIATE … COMMIT; errors inside `write` come out wrapped in RowError.
   * Remembers whether writes work, for readiness.
   */
  function inTransaction<T>(write: () => T): T {
    try {
      begin.run();
      let result: T;
      try {
        result = write();
      } catch (err) {
        rollback();
        throw new RowError(err);
      }
      try {
        commit.run();
      } catch (err) {
        rollback();
        throw err;
      }
      writeFailed = false;
      return result;
    } catch (err) {
      if (isStorageFault(unwrap(err))) writeFailed = true;
      throw err;
    }
  }

  /**
   * One committed write as large as any message, into a table of its own (so no total or reader is
   * touched), to learn without waiting for traffic whether writes work again.
   */
  function probeWrite(): boolean {
    try {
      inTransaction(() => {
        conn.exec(`INSERT INTO write_probe (data) VALUES (randomblob(${PROBE_BYTES}))`);
        conn.exec('DELETE FROM write_probe');
      });
      return true;
    } catch {
      return false;
    }
  }

  function rollback(): void {
    try {
      if (conn.isTransaction) conn.exec('ROLLBACK');
    } catch {
      // the connection rolls back by itself when COMMIT fails for I/O reasons
    }
  }

  // Readiness must know at start-up whether writes work (a restart on a full disk), not only after
  // the first delivery has failed: one probe write now sets writeFailed either way.
  if (writer && !memory) probeWrite();

  return {
    migration,
    db: {
      insertBatch(messages) {
        const rows = messages.map((m) => [m.messageId, m.from, m.to, m.ts, m.text, m.createdAt, m.tsKey, m.text === null ? null : foldText(m.text)]);
        const result = (seq: number): WriteResult => (seq > 0 ? { ok: true, created: true, seq } : { ok: true, created: false });
        try {
          return inTransaction(() => insertRows(rows)).map(result);
        } catch (error) {
          // A statement that fails for one row (an operator's trigger, a constraint) must not fail
          // the others: retry each alone. BEGIN or COMMIT failing (a lock), or any statement failing
          // because the database cannot take writes (a full disk), fails all: retried alone, the
          // rows that still fit would commit and split a WhatsApp POST that SPEC.md stores in one
          // transaction.
          const all = !(error instanceof RowError) || rows.length === 1 || isStorageFault(unwrap(error));
          if (all) return rows.map(() => ({ ok: false, error: unwrap(error) }));
          return rows.map((row) => {
            try {
              return result(inTransaction(() => insertRows([row]))[0] ?? 0);
            } catch (err) {
              return { ok: false, error: unwrap(err) };
            }
          });
        }
      },
      ...reads,
      indexStep() {
        if (indexer === null || !conn.isOpen) return false;
        try {
          return indexer.step();
        } catch (err) {
          // The index only lags (its tail is scanned); a storage fault still tells readiness.
          if (isStorageFault(unwrap(err))) writeFailed = true;
          return false;
        }
      },
      cursorKey() {
        const key = cursorKey.get()?.['key'];
        if (!(key instanceof Uint8Array) || key.length < 32) throw new Error('the cursor key is missing from service_keys');
        return key;
      },
      ping() {
        ping.get();
      },
      writable() {
        return !writeFailed || (conn.isOpen && probeWrite());
      },
      close() {
        if (!conn.isOpen) return;
        if (writer && !memory) {
          try {
            conn.exec('PRAGMA wal_checkpoint(TRUNCATE)'); // every committed row into the main file
          } catch {
            // a full or failing disk: the WAL keeps the rows and the next start recovers them
          }
        }
        conn.close();
      },
    },
  };
}

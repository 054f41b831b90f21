// The Store on node:sqlite. Statements are prepared once and take parameters only. Every database
// call is synchronous, so nothing else runs between BEGIN and COMMIT; WAL lets readers and the
// writer proceed together, and synchronous=FULL makes a commit durable before the 200 is sent.
// Inserts are group-committed: those that arrive in the same event-loop turn share one transaction
// and so one fsync, which is what bounds write throughput.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { StoredMessage } from '../domain/message.ts';
import { foldText } from '../domain/fold.ts';
import { migrate, type MigrationReport } from './migrations.ts';
import type { Message } from '../domain/message.ts';
import type { InsertResult, ListFilter, Page, Stats, Store } from './store.ts';

export type SqliteStoreOptions = {
  path: string;
  /** How long a write waits for another connection's lock before failing (a 503). */
  busyTimeoutMs?: number;
  /** Caps the database at this many pages (PRAGMA max_page_count); tests use it to fill the "disk". */
  maxPageCount?: number;
  now: () => Date;
};

type Row = Record<string, SQLInputValue>;

/** Most inserts one transaction takes; the rest wait for the next turn, so latency stays bounded. */
export const MAX_BATCH = 512;

/** Bytes the readiness probe writes: more than the largest message (4096 code points of 4 UTF-8 bytes, twice). */
export const PROBE_BYTES = 2 * 4 * 4096;

// SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock; the disk itself is fine.
const LOCK_ERRORS = new Set([5, 6]);

/** True for write errors that say the database cannot take writes (full, read-only, I/O), not a passing lock. */
function isStorageFault(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'errcode') : undefined;
  return typeof code !== 'number' || !LOCK_ERRORS.has(code & 0xff);
}

const str = (row: Row | undefined, key: string): string => String(row?.[key] ?? '');
const num = (row: Row | undefined, key: string): number => Number(row?.[key] ?? 0);

function toMessage(row: Row): StoredMessage {
  const text = row['text'];
  return { message_id: str(row, 'message_id'), from: str(row, 'from_msisdn'), to: str(row, 'to_msisdn'), ts: str(row, 'ts'), text: typeof text === 'string' ? text : null };
}

// Filters are chosen from this fixed set; the SQL is never built from request data.
const FILTERS = [
  { key: 'from', sql: 'from_msisdn = $from' },
  { key: 'since', sql: 'ts_key >= $since' },
  { key: 'q', sql: 'instr(text_fold, $q) > 0' },
] as const;

export function openSqliteStore(options: SqliteStoreOptions): { store: Store; migration: MigrationReport } {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  let migration: MigrationReport;
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 2000))}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    migration = migrate(db);
    if (options.maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.trunc(options.maxPageCount))}`);
  } catch (err) {
    db.close();
    throw err;
  }

  const insert = db.prepare(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
  );
  const ping = db.prepare('SELECT 1 FROM messages LIMIT 1');
  // The probe stores a row as large as any message and removes it in the same transaction, so a
  // commit succeeds only where a real delivery would, and no reader ever sees the row. Its id is
  // random, and a plain INSERT fails rather than touch a real row that happened to share it.
  const probeInsert = db.prepare(
    `INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold)
     VALUES ($id, '+0', '+0', '', randomblob($bytes), '', '', NULL)`,
  );
  const probeDelete = db.prepare('DELETE FROM messages WHERE message_id = $id');
  const totals = db.prepare('SELECT COUNT(*) AS total, COUNT(DISTINCT from_msisdn) AS senders FROM messages');
  const topSenders = db.prepare(
    'SELECT from_msisdn, COUNT(*) AS n FROM messages GROUP BY from_msisdn ORDER BY n DESC, from_msisdn ASC LIMIT 10',
  );
  const first = db.prepare('SELECT ts FROM messages ORDER BY ts_key ASC, message_id ASC LIMIT 1');
  const last = db.prepare('SELECT ts FROM messages ORDER BY ts_key DESC, message_id DESC LIMIT 1');
  const listStatements = new Map<number, { rows: StatementSync; count: StatementSync }>();

  function listStatementsFor(mask: number): { rows: StatementSync; count: StatementSync } {
    let found = listStatements.get(mask);
    if (found === undefined) {
      const conditions = FILTERS.filter((_, i) => (mask & (1 << i)) !== 0).map((f) => f.sql);
      const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
      found = {
        rows: db.prepare(`SELECT message_id, from_msisdn, to_msisdn, ts, text FROM messages${where} ORDER BY ts_key, message_id LIMIT $limit OFFSET $offset`),
        count: db.prepare(`SELECT COUNT(*) AS n FROM messages${where}`),
      };
      listStatements.set(mask, found);
    }
    return found;
  }

  const pending: { message: Message; resolve: (result: InsertResult) => void }[] = [];
  let flushScheduled = false;
  // Set when a commit failed because the database cannot take writes (disk full, read-only, I/O
  // error); cleared by the next successful commit or probe. Readiness reports it.
  let writeFailed = false;

  function rollbackQuietly(): void {
    try {
      if (db.isOpen && db.isTransaction) db.exec('ROLLBACK');
    } catch {
      // the connection rolls back by itself when COMMIT fails for I/O reasons
    }
  }

  /** One committed write as large as the largest message, to learn whether writes work again without waiting for traffic. */
  function probeWrite(): boolean {
    const id = `readiness-probe-${randomUUID()}`;
    try {
      db.exec('BEGIN IMMEDIATE');
      probeInsert.run({ id, bytes: PROBE_BYTES });
      probeDelete.run({ id });
      db.exec('COMMIT');
      return true;
    } catch {
      rollbackQuietly();
      return false;
    }
  }

  /** Commits every queued insert in one transaction; all succeed together or all fail (a 503 each). */
  function flush(): void {
    flushScheduled = false;
    const batch = pending.splice(0, MAX_BATCH);
    if (pending.length > 0) scheduleFlush();
    if (batch.length === 0) return;
    const createdAt = options.now().toISOString();
    const rows = batch.map(({ message: m }) => [m.messageId, m.from, m.to, m.ts, m.text, createdAt, m.tsKey, m.text === null ? null : foldText(m.text)]);
    let created: boolean[];
    try {
      db.exec('BEGIN IMMEDIATE');
      created = rows.map((row) => Number(insert.run(...row).changes) === 1);
      db.exec('COMMIT');
    } catch (error) {
      rollbackQuietly();
      if (isStorageFault(error)) writeFailed = true;
      for (const item of batch) item.resolve({ ok: false, error });
      return;
    }
    writeFailed = false;
    batch.forEach((item, i) => item.resolve({ ok: true, created: created[i] === true }));
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  }

  /** A read transaction, so `total` and the page (or the parts of /stats) come from one snapshot. */
  function snapshot<T>(read: () => T): T {
    db.exec('BEGIN');
    try {
      return read();
    } finally {
      if (db.isTransaction) db.exec('COMMIT');
    }
  }

  const store: Store = {
    insert(message) {
      if (!db.isOpen) return Promise.resolve({ ok: false, error: new Error('database is closed') });
      return new Promise((resolve) => {
        pending.push({ message, resolve });
        scheduleFlush();
      });
    },
    list(filter: ListFilter) {
      const values = { from: filter.from, since: filter.since, q: filter.q === null ? null : foldText(filter.q) };
      let mask = 0;
      const params: Record<string, SQLInputValue> = {};
      FILTERS.forEach((f, i) => {
        const value = values[f.key];
        if (value !== null) {
          mask |= 1 << i;
          params[f.key] = value;
        }
      });
      try {
        const { rows, count } = listStatementsFor(mask);
        const page: Page = snapshot(() => ({
          total: num(count.get(params), 'n'),
          data: rows.all({ ...params, limit: filter.limit, offset: filter.offset }).map(toMessage),
        }));
        return { ok: true, page };
      } catch (error) {
        return { ok: false, error };
      }
    },
    stats() {
      try {
        const stats: Stats = snapshot(() => {
          const t = totals.get();
          return {
            total_messages: num(t, 'total'),
            senders_count: num(t, 'senders'),
            messages_per_sender: topSenders.all().map((r) => ({ from: str(r, 'from_msisdn'), count: num(r, 'n') })),
            first_message_ts: first.get()?.['ts']?.toString() ?? null,
            last_message_ts: last.get()?.['ts']?.toString() ?? null,
          };
        });
        return { ok: true, stats };
      } catch (error) {
        return { ok: false, error };
      }
    },
    ping() {
      try {
        ping.get();
        return true;
      } catch {
        return false;
      }
    },
    writable() {
      if (!writeFailed) return true;
      if (!db.isOpen) return false;
      writeFailed = !probeWrite();
      return !writeFailed;
    },
    close() {
      if (pending.length > 0) flush();
      if (db.isOpen) db.close();
    },
  };
  return { store, migration };
}

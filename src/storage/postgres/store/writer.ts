// Group commit on PostgreSQL: inserts that arrive while a transaction is committing wait in the
// outbox and travel together in the next one (one COMMIT, one WAL flush, for all of them). Every
// caller is answered only after COMMIT has returned, with synchronous_commit on (the server
// default, which the pool does not change): a 200 means the row is durable.
//
// The arrival sequence. A PostgreSQL sequence hands out numbers before commit, so numbering rows
// as they are inserted would let a lower seq commit after a higher one had been fanned out (two
// replicas, or two transactions of one): a client resuming after the higher would never see the
// lower. So the store function (schema.ts) inserts the rows first, unnumbered, in parallel with
// other transactions; then, as its last step, it takes a transaction-level advisory lock and
// numbers its new rows in the arrivals table. The lock is released only once the commit is
// complete and visible, so the next transaction numbers after it: commit order is seq order,
// everywhere, and a snapshot that sees a seq sees every lower one. The function call is a statement
// of its own (its own transaction, committed before the answer), so the lock is held for that small
// insert, the counts, NOTIFY and the commit's WAL flush, never across a round trip to this process. (A transaction that sends NOTIFY holds
// PostgreSQL's own notification lock from the start of its commit to its end anyway, so commits
// that notify are serialised regardless; the advisory lock adds the numbering step to that.)
import type { Message } from '../../../domain/message.ts';
import type { PgClient, PgError } from '../client.ts';
import type { Arrival, InsertResult, NewMessage } from '../../store.ts';
import type { Feed } from './feed.ts';
import { STORE, storeParams } from './insert-sql.ts';
import { toDb } from './text.ts';

/** Most messages one transaction takes; the rest go in the next one, so latency stays bounded. */
export const MAX_BATCH = 512;
/** Transactions in flight at once: one committing, the next inserting its rows meanwhile. */
const BATCHES_IN_FLIGHT = 2;
/** Each statement of an insert transaction waits at most this long (the HTTP request timeout is 10 s). */
export const WRITE_TIMEOUT_MS = 8_000;

export type Writer = {
  insertMany(messages: readonly Message[]): Promise<InsertResult[]>;
  /** Copies rows with their own created_at (the SQLite → PostgreSQL migration script). */
  insertRows(rows: readonly NewMessage[]): Promise<InsertResult[]>;
  /**
   * False while the server cannot take writes: the last commit failed for lack of space or because
   * the server is read-only (a standby), and a probe write still fails.
   */
  writable(): Promise<boolean>;
  /** Commits everything queued; later inserts fail at once. */
  close(): Promise<void>;
};

type Committed = { created: Map<number, number> };

const fail = (error: unknown): InsertResult => ({ ok: false, error });

export function createWriter(pg: PgClient, feed: Feed, now: () => Date): Writer {
  // Unknown until a commit or a probe has shown it: the store probes once when it opens, so that
  // readiness says "database not writable" (a server started read-only or on a full disk) before
  // any delivery has failed, as SQLite's writer does.
  let writeFailed = true;
  let closing: Promise<void> | undefined;

  /** One transaction; per row: created (with its seq) or duplicate, or the transaction's failure. */
  async function commit(rows: readonly NewMessage[]): Promise<{ ok: true; value: Committed } | { ok: false; error: PgError }> {
    const ids = rows.map((m) => toDb(m.messageId));
    const { batch, keep } = feed.begin();
    // One statement, so its own transaction: it commits before the server's ReadyForQuery, which is
    // when the answer is taken (a failed commit is an error before it). One round trip per batch.
    const stored = await pg.query(STORE.sql, storeParams(rows, `${feed.origin}:${batch}`), { name: STORE.name, timeoutMs: WRITE_TIMEOUT_MS });
    const created = new Map<number, number>();
    if (stored.ok) {
      const seqOf = new Map(stored.rows.map((r) => [String(r['stored_id']), Number(r['stored_seq'])]));
      const arrivals: Arrival[] = [];
      ids.forEach((id, i) => {
        const seq = seqOf.get(id);
        const m = rows[i];
        if (seq === undefined || m === undefined) return;
        seqOf.delete(id); // the first occurrence of an id is the one stored
        created.set(i, seq);
        arrivals.push({ seq, message: { message_id: m.messageId, from: m.from, to: m.to, ts: m.ts, text: m.text } });
      });
      arrivals.sort((a, b) => a.seq - b.seq);
      if (keep) feed.arrived(batch, arrivals);
    }
    const result: { ok: true; value: Committed } | { ok: false; error: PgError } = stored.ok ? { ok: true, value: { created } } : stored;
    if (result.ok) {
      writeFailed = false;
    } else {
      feed.failed(batch);
      if (result.error.kind === 'disk_full' || result.error.kind === 'read_only') writeFailed = true;
    }
    return result;
  }

  async function insertRows(rows: readonly NewMessage[]): Promise<InsertResult[]> {
    if (rows.length === 0) return [];
    const result = await commit(rows);
    if (result.ok) return rows.map((_, i) => ({ ok: true, created: result.value.created.has(i) }));
    // A statement refused for one row (an operator's trigger or constraint) must not fail the
    // others: each is tried alone. A lost connection, a timeout or a full disk fails them all.
    const kind = result.error.kind;
    if (rows.length === 1 || (kind !== 'query' && kind !== 'serialization')) return rows.map(() => fail(result.error));
    const alone: InsertResult[] = [];
    for (const row of rows) alone.push((await insertRows([row]))[0] ?? fail(result.error));
    return alone;
  }

  // The outbox: one entry per call (an insertMany is never split, so its messages share one transaction).
  const outbox: { rows: NewMessage[]; resolve: (results: InsertResult[]) => void }[] = [];
  const inFlight = new Set<Promise<void>>();
  function takeBatch(): typeof outbox {
    let count = 0;
    let n = 0;
    for (const entry of outbox) {
      if (n > 0 && count + entry.rows.length > MAX_BATCH) break;
      count += entry.rows.length;
      n += 1;
    }
    return outbox.splice(0, n);
  }
  function send(): void {
    if (inFlight.size >= BATCHES_IN_FLIGHT || outbox.length === 0) return;
    const batch = takeBatch();
    const sent = insertRows(batch.flatMap((b) => b.rows)).then((results) => {
      inFlight.delete(sent);
      let at = 0;
      for (const b of batch) {
        b.resolve(results.slice(at, at + b.rows.length));
        at += b.rows.length;
      }
      send();
    });
    inFlight.add(sent);
  }

  return {
    insertMany(messages) {
      if (closing !== undefined) return Promise.resolve(messages.map(() => fail(new Error('database is closed'))));
      if (messages.length === 0) return Promise.resolve([]);
      return new Promise((resolve) => {
        if (outbox.length === 0) setImmediate(send); // the rest of this turn's inserts join it
        const createdAt = now().toISOString();
        outbox.push({ rows: messages.map((m) => ({ ...m, createdAt })), resolve });
      });
    },
    insertRows,
    async writable() {
      if (!writeFailed) return true;
      // One committed write as large as any message (32 KiB of random text, which does not compress).
      const probed = await pg.transaction(async (tx) => {
        void tx.query("INSERT INTO write_probe (data) SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 1024)", [], { name: 'wh_probe_insert' });
        void tx.query('DELETE FROM write_probe', [], { name: 'wh_probe_delete' });
        return true;
      }, { timeoutMs: WRITE_TIMEOUT_MS });
      if (probed.ok) writeFailed = false;
      return probed.ok;
    },
    close() {
      closing ??= (async () => {
        while (outbox.length > 0 || inFlight.size > 0) {
          send();
          await Promise.all(inFlight);
        }
      })();
      return closing;
    },
  };
}

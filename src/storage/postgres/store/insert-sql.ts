// The statements of one insert transaction (writer.ts runs them). Parameters are text[] literals
// (text.ts), so one prepared statement serves every batch size.
import type { NewMessage } from '../../store.ts';
import type { Param } from '../client.ts';
import { ARRIVAL_LOCK, ARRIVALS_CHANNEL, STRIPES } from './schema.ts';
import { foldedForDb, textArray, toDb } from './text.ts';

/**
 * Limits for this transaction only: a lock wait (another replica's same id, the arrival step) and
 * a transaction left idle by a client that vanished (it holds locks) both end in seconds.
 */
export const SETTINGS = {
  name: 'wh_tx_settings',
  sql: "SELECT set_config('lock_timeout', '5s', true), set_config('idle_in_transaction_session_timeout', '15s', true)",
};

/**
 * The rows, the per-sender counts and this connection's stripe of the totals, in one statement.
 * Rows go in message_id order and senders in from_msisdn order, so two transactions that share ids
 * or senders lock them in the same order and cannot deadlock. A repeated id within the batch is
 * inserted once: its first occurrence (ord breaks the tie), as first write wins. A sender is new
 * when its count after the upsert is just what this batch added.
 */
export const INSERT = {
  name: 'wh_insert',
  sql: `WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[]) WITH ORDINALITY
        AS t(message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold, ord)
    ), ins AS (
      INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold)
      SELECT message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold FROM input ORDER BY message_id COLLATE "C", ord
      ON CONFLICT (message_id) DO NOTHING
      RETURNING message_id, from_msisdn
    ), per_sender AS (
      SELECT from_msisdn, count(*) AS n FROM ins GROUP BY from_msisdn
    ), senders AS (
      INSERT INTO sender_counts AS s (from_msisdn, n) SELECT from_msisdn, n FROM per_sender ORDER BY from_msisdn
      ON CONFLICT (from_msisdn) DO UPDATE SET n = s.n + excluded.n
      RETURNING from_msisdn, n
    ), totals AS (
      INSERT INTO message_totals AS t (stripe, total, senders)
      SELECT pg_backend_pid() % ${STRIPES}, (SELECT count(*) FROM ins),
             (SELECT count(*) FROM senders JOIN per_sender USING (from_msisdn) WHERE senders.n = per_sender.n)
      WHERE EXISTS (SELECT 1 FROM ins)
      ON CONFLICT (stripe) DO UPDATE SET total = t.total + excluded.total, senders = t.senders + excluded.senders
    )
    SELECT message_id FROM ins`,
};

export function insertParams(rows: readonly NewMessage[]): Param[] {
  const column = (pick: (m: NewMessage) => string | null): string => textArray(rows.map(pick));
  return [
    column((m) => toDb(m.messageId)),
    column((m) => toDb(m.from)),
    column((m) => toDb(m.to)),
    column((m) => toDb(m.ts)),
    column((m) => (m.text === null ? null : toDb(m.text))),
    column((m) => m.createdAt),
    column((m) => m.tsKey),
    column((m) => foldedForDb(m.text)),
  ];
}

/**
 * The arrival step, the last before COMMIT: a transaction-level advisory lock, held until the
 * transaction has committed, around numbering the batch's new rows. So a transaction numbers its
 * rows only after every earlier-numbered one has committed (and become visible): commits happen
 * in seq order, across every replica.
 */
export const LOCK = { name: 'wh_arrival_lock', sql: 'SELECT pg_advisory_xact_lock($1::bigint)', params: [ARRIVAL_LOCK] as Param[] };

/** Numbers the new rows in batch order and sends the NOTIFY (delivered only if this commits). */
export const ARRIVE = {
  name: 'wh_arrive',
  sql: `WITH a AS (
      INSERT INTO arrivals (seq, message_id)
      SELECT nextval('arrival_seq'), id FROM (SELECT id, ord FROM unnest($1::text[]) WITH ORDINALITY AS t(id, ord) ORDER BY ord) o
      RETURNING seq, message_id
    ), n AS (
      SELECT pg_notify($2, $3 || ':' || min(seq) || ':' || max(seq)) FROM a
    )
    SELECT a.seq, a.message_id FROM a CROSS JOIN n`,
};

export const arriveParams = (ids: readonly string[], payloadPrefix: string): Param[] => [textArray(ids), ARRIVALS_CHANNEL, payloadPrefix];

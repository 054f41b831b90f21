// The read side of the PostgreSQL Store: each call is one statement (queries.ts), its rows turned
// into the Store's values. Failures are values; nothing here throws for a database problem.
import type { StoredMessage } from '../../../domain/message.ts';
import type { PgClient, PgError, Row } from '../client.ts';
import type { Arrival, Store } from '../../store.ts';
import { batchStatement, HEAD, listStatement, replayStatement, scanStatement, STATS, type Statement } from './queries.ts';
import { fromDb } from './text.ts';

export type Reads = Pick<Store, 'list' | 'scan' | 'replay' | 'stats'> & {
  /** The arrivals with first ≤ seq ≤ last, in seq order. */
  batch(first: number, last: number): Promise<{ ok: true; arrivals: Arrival[] } | { ok: false; error: PgError }>;
};

/** A read waits at most this long (a `q` scan of a large table included); then it is canceled and answers 503. */
export const READ_TIMEOUT_MS = 10_000;

const str = (row: Row, key: string): string => fromDb(String(row[key] ?? ''));
const num = (row: Row | undefined, key: string): number => Number(row?.[key] ?? 0);

function toMessage(row: Row): StoredMessage {
  const text = row['text'];
  return { message_id: str(row, 'message_id'), from: str(row, 'from_msisdn'), to: str(row, 'to_msisdn'), ts: String(row['ts']), text: typeof text === 'string' ? fromDb(text) : null };
}

const positionOf = (row: Row): { tsKey: string; messageId: string } => ({ tsKey: String(row['ts_key']), messageId: str(row, 'message_id') });
const arrivalOf = (row: Row): Arrival => ({ seq: num(row, 'seq'), message: toMessage(row) });

export function createReads(pg: PgClient, timeoutMs: number = READ_TIMEOUT_MS): Reads {
  const run = (statement: Statement) => pg.query(statement.sql, statement.params, { name: statement.name, timeoutMs });

  return {
    async list(filter) {
      const result = await run(listStatement(filter));
      if (!result.ok) return result;
      const rows = result.rows.filter((row) => row['message_id'] !== null);
      const more = rows.length > filter.limit;
      if (more) rows.length = filter.limit;
      const last = rows[rows.length - 1];
      return { ok: true, page: { total: num(result.rows[0], 'total'), data: rows.map(toMessage), next: more && last !== undefined ? positionOf(last) : null } };
    },
    async scan(filter, after, limit) {
      const result = await run(scanStatement(filter, after, limit));
      if (!result.ok) return result;
      const rows = result.rows;
      const more = rows.length < num(rows[0], 'candidates');
      const last = rows[rows.length - 1];
      return { ok: true, page: { rows: rows.map(toMessage), next: more && last !== undefined ? positionOf(last) : null } };
    },
    async replay(after, filter, limit) {
      if (limit === 0) {
        const head = await run(HEAD);
        return head.ok ? { ok: true, replay: { arrivals: [], head: num(head.rows[0], 'head'), more: false } } : head;
      }
      const result = await run(replayStatement(after, filter, limit));
      if (!result.ok) return result;
      const rows = result.rows.filter((row) => row['seq'] !== null);
      return { ok: true, replay: { arrivals: rows.map(arrivalOf), head: num(result.rows[0], 'head'), more: rows.length < num(rows[0], 'candidates') } };
    },
    async stats() {
      const result = await run(STATS);
      if (!result.ok) return result;
      const row = result.rows[0] ?? {};
      const top = JSON.parse(String(row['top'] ?? '[]')) as [string, number][];
      const ts = (key: string): string | null => (typeof row[key] === 'string' ? String(row[key]) : null);
      return {
        ok: true,
        stats: {
          total_messages: num(row, 'total'),
          senders_count: num(row, 'senders'),
          messages_per_sender: top.map(([from, count]) => ({ from: fromDb(from), count: Number(count) })),
          first_message_ts: ts('first_ts'),
          last_message_ts: ts('last_ts'),
        },
      };
    },
    async batch(first, last) {
      const result = await run(batchStatement(first, last));
      return result.ok ? { ok: true, arrivals: result.rows.map(arrivalOf) } : result;
    },
  };
}

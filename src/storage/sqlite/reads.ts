// The read statements of one connection: /messages pages (by offset or by cursor), export pages,
// arrival replay and /stats. Synchronous; they run in the reader worker. Pages that may hold large
// texts stop at a byte budget as well as a row count, so one page never holds much memory.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { StoredMessage } from '../../domain/message.ts';
import { indexedAtMost, keysetQuery, listQuery, replayQuery, type ListQuery } from './list-query.ts';
import type { ArrivalFilter, ListFilter, MatchFilter, Page, Position, Replay, ScanPage, Stats } from '../store.ts';

type Row = Record<string, SQLInputValue>;

/** About this many bytes of message fields per export or replay page (plus one row). */
export const PAGE_BYTES = 256 * 1024;

export type Reads = {
  list(filter: ListFilter): Page;
  scan(filter: MatchFilter, after: Position | null, limit: number): ScanPage;
  replay(after: number, filter: ArrivalFilter, limit: number): Replay;
  stats(): Stats;
};

const str = (row: Row | undefined, key: string): string => String(row?.[key] ?? '');
const num = (row: Row | undefined, key: string): number => Number(row?.[key] ?? 0);

export function toMessage(row: Row): StoredMessage {
  const text = row['text'];
  return { message_id: str(row, 'message_id'), from: str(row, 'from_msisdn'), to: str(row, 'to_msisdn'), ts: str(row, 'ts'), text: typeof text === 'string' ? text : null };
}

/**
 * An export page sorts the index's candidates for `q` when there are fewer than this many (each page
 * then reads them all: at most a few ms); with more, walking the list order finds a page sooner.
 */
const EXPORT_CANDIDATES = 10_000;

/**
 * Whether a page of `matches` rows among `rows` is found sooner by sorting the candidates (about
 * `matches` row reads) than by walking the list order testing each row (about `skip` / share).
 */
const sortCandidates = (matches: number, rows: number, skip: number): boolean => matches * matches < skip * Math.max(rows, 1);

/** The rows the other filters leave are counted up to this many (index entries only: a few ms). */
const RANGE_CAP = 50_000;

const positionOf = (row: Row): Position => ({ tsKey: str(row, 'ts_key'), messageId: str(row, 'message_id') });
const sizeOf = (row: Row): number => str(row, 'message_id').length + str(row, 'ts').length + (typeof row['text'] === 'string' ? row['text'].length : 0) + 64;

/** Up to `limit` rows, or fewer once `PAGE_BYTES` is reached; `more` when a row was left unread. */
function boundedRows(statement: StatementSync, params: Record<string, SQLInputValue>, limit: number): { rows: Row[]; more: boolean } {
  const rows: Row[] = [];
  let bytes = 0;
  // One row past the limit tells whether more follow; leaving the loop early resets the statement.
  for (const row of statement.iterate({ ...params, $limit: limit + 1 })) {
    if (rows.length === limit || bytes >= PAGE_BYTES) return { rows, more: true };
    rows.push(row);
    bytes += sizeOf(row);
  }
  return { rows, more: false };
}

export function createReads(conn: DatabaseSync): Reads {
  const totals = conn.prepare('SELECT total, senders FROM message_totals WHERE id = 1');
  const topSenders = conn.prepare('SELECT from_msisdn, n FROM sender_counts ORDER BY n DESC, from_msisdn ASC LIMIT 10');
  const first = conn.prepare('SELECT ts FROM messages ORDER BY ts_key ASC, message_id ASC LIMIT 1');
  const last = conn.prepare('SELECT ts FROM messages ORDER BY ts_key DESC, message_id DESC LIMIT 1');
  const head = conn.prepare('SELECT COALESCE(max(rowid), 0) AS seq FROM messages');
  const statements = new Map<string, StatementSync>();
  const prepared = (sql: string): StatementSync => {
    let found = statements.get(sql);
    if (found === undefined) {
      found = conn.prepare(sql);
      // A query's parameters are bound as one set for its page and count statements alike.
      found.setAllowUnknownNamedParameters(true);
      statements.set(sql, found);
    }
    return found;
  };

  /**
   * The total and the page's statement. Through the index when reading its candidates costs no more
   * than walking the rows the other filters leave; the page's rows then come from sorting the
   * candidates when matches are rare, or from walking the list order when they are common.
   */
  function plan(query: ListQuery, stored: number, skip: number): { total: number; rowsSql: string } {
    const counted = (sql: string | null, params: Record<string, SQLInputValue>): number | null => (sql === null ? null : num(prepared(sql).get(params), 'n'));
    const indexed = query.indexed;
    if (indexed !== null) {
      // Each count stops early where it can: the range at RANGE_CAP, the candidates at the range.
      const range = counted(indexed.range, { ...query.params, $cap: RANGE_CAP }) ?? stored;
      const candidates = range < RANGE_CAP && indexed.range !== null
        ? num(prepared(indexed.candidatesAtMost).get({ ...query.params, $cap: range + 1 }), 'n')
        : num(prepared(indexed.candidates).get(query.params), 'n');
      if (candidates <= range) {
        const total = counted(indexed.count, query.params) ?? candidates;
        return { total, rowsSql: sortCandidates(total, range, skip) ? indexed.rows : query.rows };
      }
    }
    return { total: counted(query.count, query.countParams) ?? stored, rowsSql: query.rows };
  }

  /** A read transaction, so the parts of one answer come from one snapshot. */
  function snapshot<T>(read: () => T): T {
    conn.exec('BEGIN');
    try {
      return read();
    } finally {
      if (conn.isTransaction) conn.exec('COMMIT');
    }
  }

  return {
    list(filter) {
      const query = listQuery(filter);
      return snapshot(() => {
        const stored = num(totals.get(), 'total');
        const paging: Record<string, SQLInputValue> = { $limit: filter.limit + 1, ...(filter.after === null && { $offset: filter.offset }) };
        const { total, rowsSql } = plan(query, stored, filter.offset + filter.limit + 1);
        const rows = prepared(rowsSql).all({ ...query.params, ...paging });
        const more = rows.length > filter.limit;
        if (more) rows.length = filter.limit;
        const lastRow = rows[rows.length - 1];
        return { total, data: rows.map(toMessage), next: more && lastRow !== undefined ? positionOf(lastRow) : null };
      });
    },
    scan(filter, after, limit) {
      // A statement outside BEGIN is its own snapshot, released when the page is read, so an export
      // of any length never keeps the WAL from being checkpointed.
      const few = indexedAtMost(filter, EXPORT_CANDIDATES);
      const sorted = few !== null && num(prepared(few.sql).get(few.params), 'n') < EXPORT_CANDIDATES;
      const query = keysetQuery(filter, after, sorted ? 'index' : 'scan');
      const { rows, more } = boundedRows(prepared(query.sql), query.params, limit);
      const lastRow = rows[rows.length - 1];
      return { rows: rows.map(toMessage), next: more && lastRow !== undefined ? positionOf(lastRow) : null };
    },
    replay(after, filter, limit) {
      const query = replayQuery(filter);
      return snapshot(() => {
        const seq = num(head.get(), 'seq');
        if (limit === 0) return { arrivals: [], head: seq, more: false };
        const { rows, more } = boundedRows(prepared(query.sql), { ...query.params, $after: after }, limit);
        return { arrivals: rows.map((row) => ({ seq: num(row, 'seq'), message: toMessage(row) })), head: seq, more };
      });
    },
    stats() {
      return snapshot(() => {
        const t = totals.get();
        return {
          total_messages: num(t, 'total'),
          senders_count: num(t, 'senders'),
          messages_per_sender: topSenders.all().map((r) => ({ from: str(r, 'from_msisdn'), count: num(r, 'n') })),
          first_message_ts: first.get()?.['ts']?.toString() ?? null,
          last_message_ts: last.get()?.['ts']?.toString() ?? null,
        };
      });
    },
  };
}

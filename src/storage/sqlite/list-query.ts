// GET /messages and its export as SQL. The text comes only from the fixed fragments below, chosen
// by which filters are present; request values are bound as parameters, never spliced in. The
// order is served by the (ts_key, message_id) index, a sender by (from_msisdn, ts_key, message_id);
// `q` is a scan of text_fold (a trigram index cost more at ingest than it saved here: see
// BENCHMARKS.md), run on the reader thread so it never holds up a commit.
import type { SQLInputValue } from 'node:sqlite';
import { foldText } from '../../domain/fold.ts';
import type { ListFilter, MatchFilter, Position } from '../store.ts';

export type ListQuery = {
  /** Rows of the page with their ts_key; takes $limit (and $offset without a cursor) besides `params`. */
  rows: string;
  /** Counts all matches, ignoring the cursor; null when the stored totals already know (no filter). */
  count: string | null;
  countParams: Record<string, SQLInputValue>;
  params: Record<string, SQLInputValue>;
};

type Where = { clauses: string[]; params: Record<string, SQLInputValue> };

function matchWhere(filter: MatchFilter, after: Position | null, descending = false): Where {
  const clauses: string[] = [];
  const params: Record<string, SQLInputValue> = {};
  if (filter.from !== null) {
    clauses.push('from_msisdn = $from');
    params['$from'] = filter.from;
  }
  // A cursor's position is a row that matched these filters (its MAC binds it to them), so it is at
  // or after `since` already; leaving `since` out lets the index seek straight to the position.
  // Newest first, the bound that can be left out is `until` instead.
  if (filter.since !== null && (after === null || descending)) {
    clauses.push('ts_key >= $since');
    params['$since'] = filter.since;
  }
  if (filter.until !== null && (after === null || !descending)) {
    clauses.push('ts_key < $until');
    params['$until'] = filter.until;
  }
  if (filter.q !== null) {
    clauses.push('instr(text_fold, $q) > 0');
    params['$q'] = foldText(filter.q);
  }
  if (after !== null) {
    clauses.push(descending ? '(ts_key, message_id) < ($afterKey, $afterId)' : '(ts_key, message_id) > ($afterKey, $afterId)');
    params['$afterKey'] = after.tsKey;
    params['$afterId'] = after.messageId;
  }
  return { clauses, params };
}

const sqlWhere = (clauses: readonly string[]): string => (clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '');

const COLUMNS = 'message_id, from_msisdn, to_msisdn, ts, text, ts_key';

/** Rows after `after` in list order, for keyset pages and export pages; takes $limit. */
export function keysetQuery(filter: MatchFilter, after: Position | null): { sql: string; params: Record<string, SQLInputValue> } {
  const where = matchWhere(filter, after);
  return { sql: `SELECT ${COLUMNS} FROM messages${sqlWhere(where.clauses)} ORDER BY ts_key, message_id LIMIT $limit`, params: where.params };
}

export function listQuery(filter: ListFilter): ListQuery {
  const counted = matchWhere(filter, null);
  const descending = filter.order === 'desc';
  const order = descending ? 'ts_key DESC, message_id DESC' : 'ts_key, message_id';
  let rows: string;
  let params: Record<string, SQLInputValue>;
  if (filter.after !== null) {
    const where = matchWhere(filter, filter.after, descending);
    rows = `SELECT ${COLUMNS} FROM messages${sqlWhere(where.clauses)} ORDER BY ${order} LIMIT $limit`;
    params = where.params;
  } else {
    // Deep offsets skip index entries only; the table is read for the page's own rows.
    const clause = sqlWhere(counted.clauses);
    rows =
      `SELECT ${COLUMNS} FROM messages WHERE rowid IN ` +
      `(SELECT rowid FROM messages${clause} ORDER BY ${order} LIMIT $limit OFFSET $offset) ORDER BY ${order}`;
    params = counted.params;
  }
  const n = counted.clauses.length;
  const onlySender = n === 1 && filter.from !== null;
  const count = n === 0 ? null
    : onlySender ? 'SELECT COALESCE((SELECT n FROM sender_counts WHERE from_msisdn = $from), 0) AS n'
    : `SELECT COUNT(*) AS n FROM messages${sqlWhere(counted.clauses)}`;
  return { rows, count, countParams: counted.params, params };
}

/**
 * Arrivals after $after in seq (rowid) order; takes $limit. The sender filter is written `+from_msisdn`
 * so SQLite walks the rowid range instead of sorting a sender's whole index range by rowid.
 */
export function replayQuery(filter: { from: string | null; q: string | null }): { sql: string; params: Record<string, SQLInputValue> } {
  const clauses = ['rowid > $after'];
  const params: Record<string, SQLInputValue> = {};
  if (filter.from !== null) {
    clauses.push('+from_msisdn = $from');
    params['$from'] = filter.from;
  }
  if (filter.q !== null) {
    clauses.push('instr(text_fold, $q) > 0');
    params['$q'] = foldText(filter.q);
  }
  return { sql: `SELECT rowid AS seq, ${COLUMNS} FROM messages${sqlWhere(clauses)} ORDER BY rowid LIMIT $limit`, params };
}

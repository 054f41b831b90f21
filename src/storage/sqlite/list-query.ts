// GET /messages as SQL. The text comes only from the fixed fragments below, chosen by which filters
// are present; request values are bound as parameters, never spliced in. The order is served by the
// (ts_key, message_id) index, a sender by (from_msisdn, ts_key, message_id); `q` is a scan of
// text_fold (a trigram index cost more at ingest than it saved here: see BENCHMARKS.md), run on
// the reader thread so it never holds up a commit.
import type { SQLInputValue } from 'node:sqlite';
import { foldText } from '../../domain/fold.ts';
import type { ListFilter } from '../store.ts';

export type ListQuery = {
  /** Rows of the page; takes $limit and $offset besides `params`. */
  rows: string;
  /** Counts all matches; null when the stored totals already know (no filter). */
  count: string | null;
  params: Record<string, SQLInputValue>;
};

export function listQuery(filter: ListFilter): ListQuery {
  const where: string[] = [];
  const params: Record<string, SQLInputValue> = {};
  if (filter.from !== null) {
    where.push('from_msisdn = $from');
    params['$from'] = filter.from;
  }
  if (filter.since !== null) {
    where.push('ts_key >= $since');
    params['$since'] = filter.since;
  }
  if (filter.q !== null) {
    const q = foldText(filter.q);
    where.push('instr(text_fold, $q) > 0');
    params['$q'] = q;
  }
  const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  // Deep pages skip index entries only; the table is read for the page's own rows.
  const rows =
    `SELECT message_id, from_msisdn, to_msisdn, ts, text FROM messages WHERE rowid IN ` +
    `(SELECT rowid FROM messages${clause} ORDER BY ts_key, message_id LIMIT $limit OFFSET $offset) ORDER BY ts_key, message_id`;
  const onlySender = where.length === 1 && filter.from !== null;
  const count = where.length === 0 ? null
    : onlySender ? 'SELECT COALESCE((SELECT n FROM sender_counts WHERE from_msisdn = $from), 0) AS n'
    : `SELECT COUNT(*) AS n FROM messages${clause}`;
  return { rows, count, params };
}

// GET /messages as SQL. The text comes only from the fixed fragments below, chosen by which filters
// are present; request values are bound as parameters, never spliced in. Every shape is served by an
// index: (ts_key, message_id) for the order, (from_msisdn, ts_key, message_id) with a sender, and the
// trigram index for `q` of three or more characters.
import type { SQLInputValue } from 'node:sqlite';
import { foldText } from '../domain/fold.ts';
import type { ListFilter } from './store.ts';

export type ListQuery = {
  /** Rows of the page; takes $limit and $offset besides `params`. */
  rows: string;
  /** Counts all matches; null when the stored totals already know (no filter). */
  count: string | null;
  params: Record<string, SQLInputValue>;
};

/** Trigrams need three characters; shorter terms (and NUL, which ends a GLOB pattern) scan instead. */
const TRIGRAM = 3;

/** A GLOB pattern matching `text` literally anywhere: its wildcards and brackets are bracketed. */
export function containsGlob(text: string): string {
  return `*${text.replace(/[*?[]/g, (c) => `[${c}]`)}*`;
}

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
    // instr() is the exact test; the trigram index only narrows the rows it runs on.
    where.push('instr(text_fold, $q) > 0');
    params['$q'] = q;
    if ([...q].length >= TRIGRAM && !q.includes('\0')) {
      where.push('rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts.text_fold GLOB $glob)');
      params['$glob'] = containsGlob(q);
    }
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

// GET /messages and its export as SQL. The text comes only from the fixed fragments below, chosen
// by which filters are present; request values are bound as parameters, never spliced in. The
// order is served by the (ts_key, message_id) index, a sender by (from_msisdn, ts_key, message_id);
// `q` goes through the trigram index where it can (search.ts) and is a scan of text_fold where it
// cannot; either way it runs on a reader thread, so it never holds up a commit.
import type { SQLInputValue } from 'node:sqlite';
import { arrivalCandidates, CANDIDATES, COUNT_CANDIDATES, INDEXED_AT_MOST, SCAN, searchOf, searchParams, type Search } from './search.ts';
import type { ListFilter, MatchFilter, Position } from '../store.ts';

export type ListQuery = {
  /** Rows of the page with their ts_key; takes $limit (and $offset without a cursor) besides `params`. */
  rows: string;
  /** Present when `q` is one the index answers: the statements of the plans through it. */
  indexed: IndexedQuery | null;
  /** Counts all matches, ignoring the cursor; null when the stored totals already know (no filter). */
  count: string | null;
  countParams: Record<string, SQLInputValue>;
  params: Record<string, SQLInputValue>;
};

/**
 * Through the index, reads.ts picks a plan from two cheap counts: the candidates (the index's count
 * for the term), and the rows the other filters leave (counted up to $cap, index entries only).
 */
export type IndexedQuery = {
  /** Counts the candidates: exactly the matches when the phrase is the whole term. */
  candidates: string;
  /** Counts the candidates in the index, at most $cap. */
  candidatesAtMost: string;
  /** Rows the other filters leave, at most $cap; null when there is no other filter (all rows). */
  range: string | null;
  /** Counts the matches through the candidates; null when `candidates` is that count already. */
  count: string | null;
  /** The page's rows from the candidates, sorted: cheaper than walking the list order for rare terms. */
  rows: string;
};

type Where = { clauses: string[]; params: Record<string, SQLInputValue> };

/** How `q` is tested: by the scan, or by the index's candidates. */
type Via = 'scan' | 'index';

function matchWhere(filter: MatchFilter, after: Position | null, descending = false, via: Via = 'scan'): Where {
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
    const search = searchOf(filter.q);
    clauses.push(via === 'index' && search.match !== null ? CANDIDATES : SCAN);
    Object.assign(params, searchParams(search));
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

export type KeysetQuery = { sql: string; params: Record<string, SQLInputValue> };

/**
 * Rows after `after` in list order, for keyset pages and export pages; takes $limit. `via: 'index'`
 * sorts the index's candidates instead of walking the list order (for rare terms).
 */
export function keysetQuery(filter: MatchFilter, after: Position | null, via: Via = 'scan'): KeysetQuery {
  const where = matchWhere(filter, after, false, via);
  const order = via === 'index' ? '+ts_key, +message_id' : 'ts_key, message_id';
  return { sql: `SELECT ${COLUMNS} FROM messages${sqlWhere(where.clauses)} ORDER BY ${order} LIMIT $limit`, params: where.params };
}

/** Matches in the index, up to $cap (bound here): an export page sorts the candidates when they are few. */
export function indexedAtMost(filter: MatchFilter, cap: number): KeysetQuery | null {
  if (filter.q === null) return null;
  const search = searchOf(filter.q);
  return search.match === null ? null : { sql: INDEXED_AT_MOST, params: { ...searchParams(search), $cap: cap } };
}

function pageRows(filter: ListFilter, via: Via): { sql: string; params: Record<string, SQLInputValue> } {
  const descending = filter.order === 'desc';
  // Through the index the candidates are sorted, so the order must not pick the order's index.
  const plus = via === 'index' ? '+' : '';
  const order = descending ? `${plus}ts_key DESC, ${plus}message_id DESC` : `${plus}ts_key, ${plus}message_id`;
  if (filter.after !== null) {
    const where = matchWhere(filter, filter.after, descending, via);
    return { sql: `SELECT ${COLUMNS} FROM messages${sqlWhere(where.clauses)} ORDER BY ${order} LIMIT $limit`, params: where.params };
  }
  const where = matchWhere(filter, null, descending, via);
  if (via === 'index') {
    return { sql: `SELECT ${COLUMNS} FROM messages${sqlWhere(where.clauses)} ORDER BY ${order} LIMIT $limit OFFSET $offset`, params: where.params };
  }
  // Deep offsets skip index entries only; the table is read for the page's own rows.
  const clause = sqlWhere(where.clauses);
  return {
    sql: `SELECT ${COLUMNS} FROM messages WHERE rowid IN (SELECT rowid FROM messages${clause} ORDER BY ${order} LIMIT $limit OFFSET $offset) ORDER BY ${order}`,
    params: where.params,
  };
}

export function listQuery(filter: ListFilter): ListQuery {
  const counted = matchWhere(filter, null);
  const scanned = pageRows(filter, 'scan');
  const n = counted.clauses.length;
  const onlySender = n === 1 && filter.from !== null;
  const count = n === 0 ? null
    : onlySender ? 'SELECT COALESCE((SELECT n FROM sender_counts WHERE from_msisdn = $from), 0) AS n'
    : `SELECT COUNT(*) AS n FROM messages${sqlWhere(counted.clauses)}`;
  const search = filter.q === null ? null : searchOf(filter.q);
  if (search === null || search.match === null) return { rows: scanned.sql, indexed: null, count, countParams: counted.params, params: scanned.params };
  const others = matchWhere({ ...filter, q: null }, null).clauses;
  const through = matchWhere(filter, null, false, 'index');
  const indexed: IndexedQuery = {
    candidates: COUNT_CANDIDATES,
    candidatesAtMost: INDEXED_AT_MOST,
    range: others.length === 0 ? null : `SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages${sqlWhere(others)} LIMIT $cap)`,
    count: others.length === 0 && search.exact ? null : `SELECT COUNT(*) AS n FROM messages${sqlWhere(through.clauses)}`,
    rows: pageRows(filter, 'index').sql,
  };
  return { rows: scanned.sql, indexed, count, countParams: counted.params, params: { ...scanned.params, ...through.params } };
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
    const search: Search = searchOf(filter.q);
    clauses.push(search.match === null ? SCAN : arrivalCandidates(filter.from === null));
    Object.assign(params, searchParams(search));
  }
  return { sql: `SELECT rowid AS seq, ${COLUMNS} FROM messages${sqlWhere(clauses)} ORDER BY rowid LIMIT $limit`, params };
}

// The read statements as SQL, built from fixed fragments chosen by which filters are present;
// request values are always parameters. A statement's name is its shape, so each shape is parsed
// once per connection and reused. Every answer is one statement, so one snapshot: a page and its
// total, a replay page and its head, the parts of /stats. Pages that may hold large texts stop at
// a byte budget (computed by the server, so rows past it are never sent) as well as a row count.
import type { Param } from '../client.ts';
import type { ArrivalFilter, ListFilter, MatchFilter, Position } from '../../store.ts';
import { qPredicate, toDb } from './text.ts';

export type Statement = { name: string; sql: string; params: Param[] };

/** About this many bytes of message fields per export or replay page (plus one row), as with SQLite. */
export const PAGE_BYTES = 256 * 1024;

class Params {
  readonly values: Param[] = [];
  add(value: Param): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

type Where = { clauses: string[]; shape: string };

/** `m.` columns of messages; the shape letters name which clauses are present, in order. */
function matchWhere(filter: MatchFilter, after: Position | null, p: Params, descending = false): Where {
  const clauses: string[] = [];
  let shape = '';
  if (filter.from !== null) {
    clauses.push(`m.from_msisdn = ${p.add(toDb(filter.from))}`);
    shape += 'f';
  }
  // A cursor's position is a row that matched these filters (its MAC binds it to them), so it is at
  // or after `since` already; leaving `since` out lets the index seek straight to the position.
  // Newest first, the bound that can be left out is `until` instead.
  if (filter.since !== null && (after === null || descending)) {
    clauses.push(`m.ts_key >= ${p.add(filter.since)}`);
    shape += 's';
  }
  if (filter.until !== null && (after === null || !descending)) {
    clauses.push(`m.ts_key < ${p.add(filter.until)}`);
    shape += 'u';
  }
  if (filter.q !== null) {
    const q = qPredicate(filter.q);
    clauses.push(q.kind === 'like' ? `m.text_fold LIKE ${p.add(q.pattern)}` : `m.text_fold ~ ${p.add(q.pattern)}`);
    shape += q.kind === 'like' ? 'q' : 'r';
  }
  if (after !== null) {
    clauses.push(`(m.ts_key, m.message_id) ${descending ? '<' : '>'} (${p.add(after.tsKey)}, ${p.add(toDb(after.messageId))})`);
    shape += descending ? 'b' : 'a';
  }
  return { clauses, shape };
}

const where = (clauses: readonly string[]): string => (clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '');

const COLUMNS = 'm.message_id, m.from_msisdn, m.to_msisdn, m.ts, m.text, m.ts_key';
const BYTES = '(octet_length(m.message_id) + octet_length(m.ts) + COALESCE(octet_length(m.text), 0) + 64)';

/**
 * Keeps, of the candidate rows `inner` (ordered by `order`), those within `limit` rows and the byte
 * budget: a row is kept while the rows before it hold fewer than PAGE_BYTES. `candidates` on every
 * row says how many there were, so the caller knows whether any were left out.
 */
function bounded(inner: string, order: string, limit: string, budget: string): string {
  return `SELECT * FROM (SELECT x.*, sum(x.bytes) OVER w - x.bytes AS before, row_number() OVER w AS rn, count(*) OVER () AS candidates
    FROM (${inner}) x WINDOW w AS (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)) y
    WHERE y.rn <= ${limit} AND y.before < ${budget}`;
}

export function listStatement(filter: ListFilter): Statement {
  const p = new Params();
  const filtered = filter.from !== null || filter.since !== null || filter.until !== null || filter.q !== null;
  const onlySender = filter.from !== null && filter.since === null && filter.until === null && filter.q === null;
  // The total of all matches: the striped totals without filters, a sender's count for a sender
  // alone, else a count of the matches.
  let count: string;
  let countShape: string;
  if (!filtered) {
    count = 'SELECT COALESCE(sum(total), 0)::bigint AS n FROM message_totals';
    countShape = 't';
  } else if (onlySender) {
    count = `SELECT COALESCE((SELECT n FROM sender_counts WHERE from_msisdn = ${p.add(toDb(filter.from ?? ''))}), 0)::bigint AS n`;
    countShape = 's';
  } else {
    const counted = matchWhere(filter, null, p);
    count = `SELECT count(*)::bigint AS n FROM messages m${where(counted.clauses)}`;
    countShape = `c${counted.shape}`;
  }
  const descending = filter.order === 'desc';
  const order = (t: string): string => (descending ? `${t}.ts_key DESC, ${t}.message_id DESC` : `${t}.ts_key, ${t}.message_id`);
  let page: string;
  let shape: string;
  if (filter.after !== null) {
    const keyset = matchWhere(filter, filter.after, p, descending);
    page = `SELECT ${COLUMNS} FROM messages m${where(keyset.clauses)} ORDER BY ${order('m')} LIMIT ${p.add(filter.limit + 1)}`;
    shape = `k${keyset.shape}`;
  } else {
    const paged = matchWhere(filter, null, p);
    // The page's keys first (an index-only scan skips the offset), then its rows.
    page = `SELECT ${COLUMNS} FROM (SELECT m.message_id FROM messages m${where(paged.clauses)} ORDER BY ${order('m')}
      LIMIT ${p.add(filter.limit + 1)} OFFSET ${p.add(filter.offset)}) k JOIN messages m ON m.message_id = k.message_id`;
    shape = `o${paged.shape}`;
  }
  if (descending) shape += 'd';
  return {
    name: `wh_list_${countShape}_${shape}`,
    sql: `WITH page AS (${page}), total AS (${count})
      SELECT total.n AS total, page.* FROM total LEFT JOIN page ON true ORDER BY ${order('page')}`,
    params: p.values,
  };
}

export function scanStatement(filter: MatchFilter, after: Position | null, limit: number): Statement {
  const p = new Params();
  const w = matchWhere(filter, after, p);
  const inner = `SELECT ${COLUMNS}, ${BYTES} AS bytes FROM messages m${where(w.clauses)} ORDER BY m.ts_key, m.message_id LIMIT ${p.add(limit + 1)}`;
  return {
    name: `wh_scan_${w.shape}`,
    sql: `${bounded(inner, 'x.ts_key, x.message_id', p.add(limit), p.add(PAGE_BYTES))} ORDER BY y.ts_key, y.message_id`,
    params: p.values,
  };
}

/** Arrivals after a seq in seq order, with the head of the same snapshot on every row (and on the one row of an empty page). */
export function replayStatement(after: number, filter: ArrivalFilter, limit: number): Statement {
  const p = new Params();
  const clauses = [`a.seq > ${p.add(after)}`];
  let shape = '';
  if (filter.from !== null) {
    clauses.push(`m.from_msisdn = ${p.add(toDb(filter.from))}`);
    shape += 'f';
  }
  if (filter.q !== null) {
    const q = qPredicate(filter.q);
    clauses.push(q.kind === 'like' ? `m.text_fold LIKE ${p.add(q.pattern)}` : `m.text_fold ~ ${p.add(q.pattern)}`);
    shape += q.kind === 'like' ? 'q' : 'r';
  }
  const inner = `SELECT a.seq, ${COLUMNS}, ${BYTES} AS bytes FROM arrivals a JOIN messages m ON m.message_id = a.message_id${where(clauses)}
    ORDER BY a.seq LIMIT ${p.add(limit + 1)}`;
  return {
    name: `wh_replay_${shape}`,
    sql: `WITH head AS (SELECT COALESCE(max(seq), 0) AS head FROM arrivals), page AS (${bounded(inner, 'x.seq', p.add(limit), p.add(PAGE_BYTES))})
      SELECT head.head, page.* FROM head LEFT JOIN page ON true ORDER BY page.seq`,
    params: p.values,
  };
}

export const HEAD: Statement = { name: 'wh_head', sql: 'SELECT COALESCE(max(seq), 0) AS head FROM arrivals', params: [] };

/** The arrivals of one committed batch (another replica's, told of by NOTIFY). */
export function batchStatement(first: number, last: number): Statement {
  return {
    name: 'wh_batch',
    sql: `SELECT a.seq, ${COLUMNS} FROM arrivals a JOIN messages m ON m.message_id = a.message_id WHERE a.seq BETWEEN $1 AND $2 ORDER BY a.seq`,
    params: [first, last],
  };
}

export const STATS: Statement = {
  name: 'wh_stats',
  sql: `SELECT (SELECT COALESCE(sum(total), 0)::bigint FROM message_totals) AS total,
      (SELECT COALESCE(sum(senders), 0)::bigint FROM message_totals) AS senders,
      (SELECT ts FROM messages ORDER BY ts_key, message_id LIMIT 1) AS first_ts,
      (SELECT ts FROM messages ORDER BY ts_key DESC, message_id DESC LIMIT 1) AS last_ts,
      (SELECT COALESCE(json_agg(json_build_array(s.from_msisdn, s.n) ORDER BY s.n DESC, s.from_msisdn), '[]')
         FROM (SELECT from_msisdn, n FROM sender_counts ORDER BY n DESC, from_msisdn LIMIT 10) s) AS top`,
  params: [],
};

export const PING: Statement = { name: 'wh_ping', sql: 'SELECT 1 FROM messages LIMIT 1', params: [] };

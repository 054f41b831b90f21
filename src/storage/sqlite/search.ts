// `q` through the trigram index (migration 6): messages_search is a contentless FTS5 table of
// text_fold with the trigram tokenizer (case_sensitive, since text_fold is folded already) and
// detail=full, so the phrase of a term's trigrams matches exactly the rows whose text_fold contains
// the term — the same set as instr(text_fold, q) > 0. Rows up to search_state.indexed_upto are in
// the index (the writer adds new rows in large batches off the request path, search-index.ts;
// triggers keep it right for ad-hoc deletes and updates); rows above it, the tail, are scanned with
// instr as before. Terms the index cannot answer (fewer than three code points, or a NUL, which
// FTS5's query parser stops at) are scanned as before. Every fragment here is fixed text; the term
// is bound as $q (folded) and $match (the FTS5 phrase).
import type { SQLInputValue } from 'node:sqlite';
import { foldText } from '../../domain/fold.ts';

export type Search = {
  /** The folded term, bound as $q. */
  fold: string;
  /** The FTS5 phrase of the term (or of its start), bound as $match; null when the term must be scanned. */
  match: string | null;
  /** Whether the phrase is the whole term, so the index alone counts its matches exactly. */
  exact: boolean;
};

/** The trigram tokenizer makes no token of fewer than 3 characters (code points). */
const MIN_INDEXED = 3;
/**
 * A phrase costs a doclist read per trigram, so a longer term is looked up by its first this many
 * code points (a superset: each candidate is then checked with instr).
 */
export const MAX_PHRASE = 12;

export function searchOf(q: string): Search {
  const fold = foldText(q);
  const points: string[] = [];
  for (const point of fold) {
    points.push(point);
    if (points.length > MAX_PHRASE) break;
  }
  if (points.length < MIN_INDEXED || fold.includes('\u0000')) return { fold, match: null, exact: false };
  const exact = points.length <= MAX_PHRASE;
  const phrase = exact ? fold : points.slice(0, MAX_PHRASE).join('');
  return { fold, match: `"${phrase.replaceAll('"', '""')}"`, exact };
}

export function searchParams(search: Search): Record<string, SQLInputValue> {
  return search.match === null ? { $q: search.fold } : { $q: search.fold, $match: search.match };
}

/** The plain scan's test, and the recheck of every row the index returns. */
export const SCAN = 'instr(text_fold, $q) > 0';

const UPTO = '(SELECT indexed_upto FROM search_state WHERE id = 1)';
const INDEXED = `SELECT rowid FROM messages_search WHERE messages_search MATCH $match AND rowid <= ${UPTO}`;
const TAIL = `SELECT rowid FROM messages WHERE rowid > ${UPTO} AND ${SCAN}`;

/** The rows that match, as a rowid set: the index's up to the watermark, the scanned tail's above it. */
export const CANDIDATES = `rowid IN (${INDEXED} UNION ALL ${TAIL}) AND ${SCAN}`;

/**
 * The number of candidates whatever the other filters, counted in the index without reading rows:
 * exactly the number of matches when the phrase is exact.
 */
export const COUNT_CANDIDATES = `SELECT (SELECT COUNT(*) FROM (${INDEXED})) + (SELECT COUNT(*) FROM (${TAIL})) AS n`;

/** Up to $cap matches counted in the index (the tail left out): how an export page picks its plan. */
export const INDEXED_AT_MOST = `SELECT COUNT(*) AS n FROM (${INDEXED} LIMIT $cap)`;

/**
 * Matches after $after in rowid order for replay: the index's first $limit of them (it returns
 * rowids in order, so no more can be needed) and the tail. With a sender filter the index's part
 * is not limited, since rows of other senders would take the places.
 */
export function arrivalCandidates(limited: boolean): string {
  const indexed = `SELECT rowid FROM messages_search WHERE messages_search MATCH $match AND rowid > $after AND rowid <= ${UPTO}`;
  const head = limited ? `SELECT rowid FROM (${indexed} ORDER BY rowid LIMIT $limit)` : indexed;
  return `rowid IN (${head} UNION ALL SELECT rowid FROM messages WHERE rowid > max($after, ${UPTO}) AND ${SCAN}) AND ${SCAN}`;
}

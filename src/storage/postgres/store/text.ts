// Strings as PostgreSQL stores them. A JSON string may hold U+0000, which SQLite's text keeps and
// PostgreSQL's text cannot, so the strings the service writes go through a small escape:
//   U+0000 → U+0001 U+0001,  U+0001 → U+0001 U+0002,  every other character as it is.
// It is injective (two ids never collide), it keeps byte order (U+0001 U+0001 < U+0001 U+0002 <
// U+0002, so the list order by message_id is SQLite's), and it maps substrings to substrings. The
// converse can fail only for a search text that starts with U+0000, U+0001 or U+0002: its escaped
// form could match from the middle of an escape. qPredicate() anchors those few to character
// boundaries with a pattern; everything else is a plain LIKE, which a trigram index can serve.
import { foldText } from '../../../domain/fold.ts';

const NEEDS_ESCAPE = /[\u0000\u0001]/;

export function toDb(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\u0000\u0001]/g, (c) => (c === '\u0000' ? '\u0001\u0001' : '\u0001\u0002')) : text;
}

export function fromDb(text: string): string {
  return text.includes('\u0001') ? text.replace(/\u0001([\u0001\u0002])/g, (_, c: string) => (c === '\u0001' ? '\u0000' : '\u0001')) : text;
}

/** A text[] literal of already escaped strings (no U+0000): every element quoted, so any text is one element. */
export function textArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

/** The folded, escaped form of a message text, as stored in text_fold. */
export const foldedForDb = (text: string | null): string | null => (text === null ? null : toDb(foldText(text)));

export type QPredicate = { kind: 'like'; pattern: string } | { kind: 'regex'; pattern: string };

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&');

/** One character of an ARE (PostgreSQL's regular expressions), matching itself only. */
function regexChar(c: string): string {
  if (/^[A-Za-z0-9]$/.test(c)) return c;
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\u${code.toString(16).padStart(4, '0')}`;
  // A backslash before any other ASCII character makes it literal; other characters are literal already.
  return code < 0x80 ? `\\${c}` : c;
}

/**
 * How `q` matches text_fold: case-insensitive (both folded by foldText), `%` and `_` literal.
 * A search starting with U+0000 … U+0002 must match at a character boundary of the escaped text:
 * after any run of whole characters and whole escapes.
 */
export function qPredicate(q: string): QPredicate {
  const escaped = toDb(foldText(q));
  const first = escaped.codePointAt(0) ?? 0;
  if (first > 0x02) return { kind: 'like', pattern: `%${escapeLike(escaped)}%` };
  return { kind: 'regex', pattern: `^(?:[^\\u0001]|\\u0001[\\u0001\\u0002])*?${Array.from(escaped, regexChar).join('')}` };
}

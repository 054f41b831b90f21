// The two export formats, as pure functions of a page of rows.
// NDJSON (https://github.com/ndjson/ndjson-spec): one JSON object per line with the five fields;
// JSON.stringify escapes line breaks inside strings, so a line is always one message.
// CSV (RFC 4180): CRLF line ends, a header row, a field quoted when it holds a comma, a quote, CR or
// LF, quotes doubled. An empty string is written "" and a missing text (NULL) as an empty field, so
// the two stay distinct. No formula guard: the export is data for programs, written as stored.
import type { StoredMessage } from '../domain/message.ts';

export type ExportFormat = 'ndjson' | 'csv';

export const FORMATS: Readonly<Record<ExportFormat, { contentType: string; extension: string; header: string }>> = {
  ndjson: { contentType: 'application/x-ndjson', extension: 'ndjson', header: '' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv', header: 'message_id,from,to,ts,text\r\n' },
};

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || NEEDS_QUOTES.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** One line (record) per row, in order. */
export function* formatLines(format: ExportFormat, rows: readonly StoredMessage[]): Generator<string> {
  for (const m of rows) {
    yield format === 'ndjson'
      ? `${JSON.stringify({ message_id: m.message_id, from: m.from, to: m.to, ts: m.ts, text: m.text })}\n`
      : `${csvField(m.message_id)},${csvField(m.from)},${csvField(m.to)},${csvField(m.ts)},${csvField(m.text)}\r\n`;
  }
}

export function formatRows(format: ExportFormat, rows: readonly StoredMessage[]): string {
  return [...formatLines(format, rows)].join('');
}

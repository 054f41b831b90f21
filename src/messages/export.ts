// GET /messages/export: every match of the list filters, in list order, with no limit. Pages are
// read by keyset from the reader thread, each its own snapshot; the next page is read only when the
// client has taken the previous one (one page is read ahead, so reading and sending overlap), so
// memory stays at about two pages however long the export, and a client that stops reading stops
// the reads. The first page is read before the answer, so a failing database is a 503, not a
// broken 200.
import type { FieldError } from '../http/errors.ts';
import { failure, invalid, stream, type Reply, type StreamBody } from '../http/reply.ts';
import type { Logger } from '../log/logger.ts';
import type { MatchFilter, ScanPage, Store } from '../storage/store.ts';
import type { InFlightLimit } from '../webhook/in-flight.ts';
import { FORMATS, formatLines, type ExportFormat } from './export-format.ts';
import { lastValue, parseMatchFilter, problem } from './filters.ts';
import { unavailable, type ReadFaultDeps } from './handlers.ts';
import { joinPieces } from './pieces.ts';

/** Rows per page read (a page also stops at the store's byte budget). */
export const EXPORT_PAGE = 1000;
/** Exports running at once; more get a fast 503 "server busy" (each holds a page or two in memory). */
export const MAX_EXPORTS = 16;

export type ExportDeps = ReadFaultDeps & { store: Pick<Store, 'scan'>; logger: Logger; exports: InFlightLimit };

type ExportQuery = { ok: true; filter: MatchFilter; format: ExportFormat } | { ok: false; errors: FieldError[] };

export function parseExportQuery(params: URLSearchParams): ExportQuery {
  const errors: FieldError[] = [];
  const filter = parseMatchFilter(params, errors);
  const raw = lastValue(params, 'format') ?? 'ndjson';
  const format = raw === 'ndjson' || raw === 'csv' ? raw : null;
  if (format === null) errors.push({ ...problem('format', 'literal_error', "Input should be 'ndjson' or 'csv'") });
  return format === null || errors.length > 0 ? { ok: false, errors } : { ok: true, filter, format };
}

type Read = { ok: true; page: ScanPage } | { ok: false; error: unknown };

export async function exportMessages(deps: ExportDeps, params: URLSearchParams): Promise<Reply> {
  const parsed = parseExportQuery(params);
  if (!parsed.ok) return invalid(parsed.errors);
  if (!deps.exports.tryAcquire()) return failure('server_busy');
  const { filter, format } = parsed;
  const read = (after: ScanPage['next']): Promise<Read> =>
    deps.store.scan(filter, after, EXPORT_PAGE).catch((error: unknown) => ({ ok: false, error }) as const);

  const first = await read(null);
  if (!first.ok) {
    deps.exports.release();
    return unavailable(deps, first.error);
  }
  const header = FORMATS[format].header;
  /** The current page, formatted, waiting to be taken piece by piece (pieces.ts). */
  let pieces: string[] = joinPieces([header, ...formatLines(format, first.page.rows)]);
  let ahead: Promise<Read> | null = first.page.next === null ? null : read(first.page.next);
  let rows = first.page.rows.length;
  let released = false;

  const body: StreamBody = {
    async next() {
      while (pieces.length === 0) {
        if (ahead === null) return null;
        const got = await ahead;
        if (!got.ok) {
          deps.logger.error('storage read failed', got.error, { during: 'export', rows_sent: rows });
          throw new Error('export page read failed');
        }
        pieces = joinPieces(formatLines(format, got.page.rows));
        rows += got.page.rows.length;
        ahead = got.page.next === null ? null : read(got.page.next);
      }
      return pieces.shift() ?? null;
    },
    close() {
      pieces = [];
      ahead = null; // a page being read is dropped when it arrives
      if (!released) deps.exports.release();
      released = true;
    },
    log: () => ({ rows, format }),
  };
  return stream(FORMATS[format].contentType, body, {
    endless: false,
    headers: { 'Content-Disposition': `attachment; filename="messages.${FORMATS[format].extension}"` },
  });
}

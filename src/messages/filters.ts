// Query parameters shared by the read routes: the match filters (from, since, until, q) of
// /messages and its export, and the helpers that read one parameter. When a parameter repeats, the
// last one wins, as in Starlette.
import type { FieldError } from '../http/errors.ts';
import { instantKey, TIMESTAMP_HINT, type InstantKey } from '../domain/timestamp.ts';
import type { MatchFilter } from '../storage/store.ts';

export const problem = (field: string, type: string, msg: string): FieldError => ({ loc: ['query', field], msg, type });

export function lastValue(params: URLSearchParams, field: string): string | undefined {
  const all = params.getAll(field);
  return all[all.length - 1];
}

/** The last value of a text parameter; empty counts as absent. */
export function lastText(params: URLSearchParams, field: string): string | null {
  const raw = lastValue(params, field);
  return raw === undefined || raw === '' ? null : raw;
}

/** An exact sender. An unencoded "+" in a query string decodes to a space, so "?from=+9198…" arrives as " 9198…". */
export function parseSender(params: URLSearchParams): string | null {
  const raw = lastText(params, 'from');
  return raw?.startsWith(' ') ? `+${raw.slice(1)}` : raw;
}

function parseInstant(params: URLSearchParams, field: string, errors: FieldError[]): InstantKey | null {
  const raw = lastValue(params, field);
  if (raw === undefined) return null;
  const key = instantKey(raw);
  if (key === null) errors.push(problem(field, 'value_error', `Value error, ${field} ${TIMESTAMP_HINT}`));
  return key;
}

export function parseMatchFilter(params: URLSearchParams, errors: FieldError[]): MatchFilter {
  return {
    from: parseSender(params),
    since: parseInstant(params, 'since', errors),
    until: parseInstant(params, 'until', errors),
    q: lastText(params, 'q'),
  };
}

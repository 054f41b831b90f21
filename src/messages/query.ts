// GET /messages query parameters, parsed purely into a ListFilter or FastAPI-shaped problems.
import type { FieldError } from '../http/errors.ts';
import { instantKey, TIMESTAMP_HINT } from '../domain/timestamp.ts';
import type { ListFilter } from '../storage/store.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export type ParsedQuery = { ok: true; filter: ListFilter } | { ok: false; errors: FieldError[] };

const problem = (field: string, type: string, msg: string): FieldError => ({ loc: ['query', field], msg, type });

function parseInteger(params: URLSearchParams, field: string, fallback: number, min: number, max: number, errors: FieldError[]): number {
  const all = params.getAll(field);
  const raw = all[all.length - 1]; // the last one wins when a parameter repeats, as in Starlette
  if (raw === undefined) return fallback;
  const trimmed = raw.trim();
  if (!/^[+-]?[0-9]+$/.test(trimmed)) {
    errors.push(problem(field, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer'));
    return fallback;
  }
  const value = Number(trimmed);
  if (value < min) errors.push(problem(field, 'greater_than_equal', `Input should be greater than or equal to ${min}`));
  else if (value > max) errors.push(problem(field, 'less_than_equal', `Input should be less than or equal to ${max}`));
  return value;
}

/** The last value of a text parameter; empty counts as absent. */
function lastText(params: URLSearchParams, field: string): string | null {
  const all = params.getAll(field);
  const raw = all[all.length - 1];
  return raw === undefined || raw === '' ? null : raw;
}

export function parseListQuery(params: URLSearchParams): ParsedQuery {
  const errors: FieldError[] = [];
  const limit = parseInteger(params, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT, errors);
  const offset = parseInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER, errors);

  // An unencoded "+" in a query string decodes to a space, so "?from=+9198…" arrives as " 9198…".
  const rawFrom = lastText(params, 'from');
  const from = rawFrom?.startsWith(' ') ? `+${rawFrom.slice(1)}` : rawFrom;

  const sinceAll = params.getAll('since');
  const rawSince = sinceAll[sinceAll.length - 1];
  const since = rawSince === undefined ? null : instantKey(rawSince);
  if (rawSince !== undefined && since === null) errors.push(problem('since', 'value_error', `Value error, since ${TIMESTAMP_HINT}`));

  const q = lastText(params, 'q');
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, filter: { limit, offset, from, since, q } };
}

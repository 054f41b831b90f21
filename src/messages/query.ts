// GET /messages query parameters, parsed purely into a ListFilter or FastAPI-shaped problems.
import type { FieldError } from '../http/errors.ts';
import type { ListFilter, ListOrder, Position } from '../storage/store.ts';
import type { CursorScope } from './cursor.ts';
import { lastText, lastValue, parseMatchFilter, problem } from './filters.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export type ParsedQuery = { ok: true; filter: ListFilter } | { ok: false; errors: FieldError[] };

/** Turns a cursor into its position for these filters, or null when it is not a valid one (cursor.ts). */
export type CursorReader = (cursor: string, filter: CursorScope) => Position | null;

const noCursors: CursorReader = () => null;

function parseInteger(params: URLSearchParams, field: string, fallback: number, min: number, max: number, errors: FieldError[]): number {
  const raw = lastValue(params, field);
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

/** `order`: `asc` (the default: oldest first) or `desc` (newest first). */
function parseOrder(params: URLSearchParams, errors: FieldError[]): ListOrder {
  const raw = lastValue(params, 'order');
  if (raw === undefined || raw === 'asc') return 'asc';
  if (raw === 'desc') return 'desc';
  errors.push(problem('order', 'enum', "Input should be 'asc' or 'desc'"));
  return 'asc';
}

export function parseListQuery(params: URLSearchParams, readCursor: CursorReader = noCursors): ParsedQuery {
  const errors: FieldError[] = [];
  const limit = parseInteger(params, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT, errors);
  const offset = parseInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER, errors);
  const match = parseMatchFilter(params, errors);
  const order = parseOrder(params, errors);

  const cursor = lastText(params, 'cursor');
  let after: Position | null = null;
  if (cursor !== null) {
    after = readCursor(cursor, { ...match, order });
    if (after === null) errors.push(problem('cursor', 'value_error', 'Value error, cursor is not one this service gave for these filters (take it from the Link header)'));
    if (offset !== 0) errors.push(problem('offset', 'value_error', 'Value error, offset must be absent or 0 when cursor is given'));
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, filter: { limit, offset, ...match, after, ...(order === 'desc' && { order }) } };
}

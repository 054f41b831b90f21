// Pure validation from parsed JSON to a Message, collecting every problem in FastAPI/pydantic's
// shape so existing clients keep working. Problems never echo the input (it may be message text).
import type { FieldError } from '../http/errors.ts';
import type { Message } from '../domain/message.ts';
import { instantKey, TIMESTAMP_HINT } from '../domain/timestamp.ts';

export const MAX_TEXT_CODE_POINTS = 4096;
const E164 = /^\+[0-9]{1,15}$/;

export type Validated = { ok: true; message: Message } | { ok: false; errors: FieldError[] };

const problem = (field: string, type: string, msg: string): FieldError => ({ loc: ['body', field], msg, type });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codePoints(s: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) surrogatePairs += 1;
  }
  return s.length - surrogatePairs;
}

/** A JSON string, well-formed Unicode (a lone surrogate cannot be stored as UTF-8). */
function readString(body: Record<string, unknown>, field: string, errors: FieldError[]): string | undefined {
  if (!Object.hasOwn(body, field)) {
    errors.push(problem(field, 'missing', 'Field required'));
    return undefined;
  }
  const value = body[field];
  if (typeof value !== 'string') {
    errors.push(problem(field, 'string_type', 'Input should be a valid string'));
    return undefined;
  }
  if (!value.isWellFormed()) {
    errors.push(problem(field, 'string_unicode', 'Input should be a valid string, unable to parse raw data as a unicode string'));
    return undefined;
  }
  return value;
}

function readMsisdn(body: Record<string, unknown>, field: string, errors: FieldError[]): string | undefined {
  const value = readString(body, field, errors);
  if (value === undefined) return undefined;
  if (!E164.test(value)) {
    errors.push(problem(field, 'string_pattern_mismatch', "String should match pattern '^\\+[0-9]{1,15}$'"));
    return undefined;
  }
  return value;
}

export function validateMessage(body: unknown): Validated {
  if (!isObject(body)) {
    return { ok: false, errors: [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }] };
  }
  const errors: FieldError[] = [];

  const messageId = readString(body, 'message_id', errors);
  if (messageId === '') errors.push(problem('message_id', 'string_too_short', 'String should have at least 1 character'));
  const from = readMsisdn(body, 'from', errors);
  const to = readMsisdn(body, 'to', errors);

  const ts = readString(body, 'ts', errors);
  const tsKey = ts === undefined ? null : instantKey(ts);
  if (ts !== undefined && tsKey === null) errors.push(problem('ts', 'value_error', `Value error, ts ${TIMESTAMP_HINT}`));

  let text: string | null = null;
  if (body['text'] !== undefined && body['text'] !== null) {
    const value = readString(body, 'text', errors);
    if (value !== undefined && codePoints(value) > MAX_TEXT_CODE_POINTS) {
      errors.push(problem('text', 'string_too_long', `String should have at most ${MAX_TEXT_CODE_POINTS} characters`));
    } else if (value !== undefined) {
      text = value;
    }
  }

  if (errors.length > 0 || messageId === undefined || from === undefined || to === undefined || ts === undefined || tsKey === null) {
    return { ok: false, errors };
  }
  return { ok: true, message: { messageId, from, to, ts, tsKey, text } };
}

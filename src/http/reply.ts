// Handlers return one of these values; respond.ts is the only code that turns them into bytes.
import type { ErrorCode, FieldError } from './errors.ts';
import type { LogFields } from '../log/logger.ts';

export type Headers = Readonly<Record<string, string>>;

export type Reply = (
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'text'; status: number; body: string; contentType: string }
  | { kind: 'error'; code: ErrorCode }
  | { kind: 'invalid'; errors: readonly FieldError[] }
) & { headers?: Headers; log?: LogFields };

export const json = (status: number, body: unknown, headers?: Headers): Reply => ({ kind: 'json', status, body, ...(headers && { headers }) });
export const text = (status: number, body: string, contentType: string): Reply => ({ kind: 'text', status, body, contentType });
export const failure = (code: ErrorCode, headers?: Headers): Reply => ({ kind: 'error', code, ...(headers && { headers }) });
export const invalid = (errors: readonly FieldError[]): Reply => ({ kind: 'invalid', errors });

/** The same reply with fields added to its access-log line. */
export const withLog = (reply: Reply, log: LogFields): Reply => ({ ...reply, log: { ...reply.log, ...log } });

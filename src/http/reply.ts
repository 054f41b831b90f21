// Handlers return one of these values; respond.ts is the only code that turns them into bytes.
import type { ErrorCode, FieldError } from './errors.ts';
import type { LogFields } from '../log/logger.ts';

export type Headers = Readonly<Record<string, string>>;

/** How a streamed response ended, for its log line. */
export type StreamEnd = 'complete' | 'client_closed' | 'cut_off' | 'shutdown' | 'failed';

/**
 * The body of a long-lived response (an export, a live tail), produced chunk by chunk and pulled by
 * respond.ts only as fast as the client reads.
 */
export type StreamBody = {
  /**
   * Called once before the first chunk with `end`, which ends the response early from the
   * producer's side: `cut_off` (a client reading too slowly: dropped) or `failed`.
   */
  open?(end: (why: 'cut_off' | 'failed') => void): void;
  /**
   * The next chunk, or null when the body is complete. Not called again before the socket has
   * taken the previous chunk. A rejection ends the response as failed.
   */
  next(): Promise<string | Uint8Array | null>;
  /** Called once, however the response ended: release subscriptions and timers. */
  close(end: StreamEnd): void;
  /** Fields for the access-log line, asked for when the response has ended. */
  log?(): LogFields;
};

export type Reply = (
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'text'; status: number; body: string; contentType: string }
  | { kind: 'error'; code: ErrorCode }
  | { kind: 'invalid'; errors: readonly FieldError[] }
  /** 304: the client's copy (If-None-Match) is current; headers only. */
  | { kind: 'not_modified' }
  /**
   * A chunked body of unknown length. `endless` (a live tail) is ended cleanly when cut short; a
   * finite one (an export) is aborted instead, so the client can tell it is incomplete.
   */
  | { kind: 'stream'; status: number; contentType: string; body: StreamBody; endless: boolean }
) & { headers?: Headers; log?: LogFields };

export const json = (status: number, body: unknown, headers?: Headers): Reply => ({ kind: 'json', status, body, ...(headers && { headers }) });
export const text = (status: number, body: string, contentType: string, headers?: Headers): Reply => ({ kind: 'text', status, body, contentType, ...(headers && { headers }) });
export const failure = (code: ErrorCode, headers?: Headers): Reply => ({ kind: 'error', code, ...(headers && { headers }) });
export const invalid = (errors: readonly FieldError[]): Reply => ({ kind: 'invalid', errors });
export const notModified = (headers: Headers): Reply => ({ kind: 'not_modified', headers });
export const stream = (contentType: string, body: StreamBody, options: { endless: boolean; headers?: Headers }): Reply =>
  ({ kind: 'stream', status: 200, contentType, body, endless: options.endless, ...(options.headers && { headers: options.headers }) });

/** The same reply with fields added to its access-log line. */
export const withLog = (reply: Reply, log: LogFields): Reply => ({ ...reply, log: { ...reply.log, ...log } });

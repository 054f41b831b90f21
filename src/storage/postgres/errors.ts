// One error type for everything the PostgreSQL client can fail with, classified once so callers
// (the Store, readiness, the HTTP edge) decide on `kind` and never parse message text.
// SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html

export type PgErrorKind =
  /** The connection could not be made, or was lost (socket closed, server shut down, admin kill). */
  | 'connection'
  /** Our own query timeout fired; the statement may or may not have taken effect. */
  | 'timeout'
  /** The server canceled the statement (statement_timeout, a cancel request, a lock timeout). */
  | 'canceled'
  | 'unique_violation'
  /** Serialization failure or deadlock: the transaction may succeed if retried. */
  | 'serialization'
  /** The server takes no writes: a read-only transaction or a hot standby. */
  | 'read_only'
  /** The server is out of disk space (or another resource it needs to write). */
  | 'disk_full'
  /** Authentication failed or was refused by this client (MD5, cleartext without TLS, bad signature). */
  | 'auth'
  /** TLS could not be negotiated as `sslmode` demands (refused, bad certificate, wrong host name). */
  | 'tls'
  /** The server sent bytes this client cannot make sense of; the connection is dropped. */
  | 'protocol'
  /** Every connection is busy and the wait queue is full. */
  | 'pool_full'
  /** The pool was closed. */
  | 'closed'
  /** Any other error the server reported for a statement (syntax, constraint, type, …). */
  | 'query';

/** The fields of an ErrorResponse or NoticeResponse, by their one-letter codes. */
export type ServerFields = Readonly<Record<string, string>>;

export type PgErrorInit = {
  sqlstate?: string | null;
  severity?: string | null;
  fields?: ServerFields;
  cause?: unknown;
};

export class PgError extends Error {
  readonly kind: PgErrorKind;
  /** The five-character SQLSTATE the server sent, or null for client-side failures. */
  readonly sqlstate: string | null;
  readonly severity: string | null;
  /** Optional server fields: D detail, H hint, W where, n constraint, t table, c column, R routine… */
  readonly detail: string | null;
  readonly constraint: string | null;
  readonly table: string | null;
  readonly routine: string | null;

  constructor(kind: PgErrorKind, message: string, init: PgErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PgError';
    this.kind = kind;
    this.sqlstate = init.sqlstate ?? null;
    this.severity = init.severity ?? null;
    const fields = init.fields ?? {};
    this.detail = fields['D'] ?? null;
    this.constraint = fields['n'] ?? null;
    this.table = fields['t'] ?? null;
    this.routine = fields['R'] ?? null;
  }

  /** Fields that are safe to log: no row data (the detail of a unique violation repeats the key). */
  logFields(): Record<string, string> {
    const out: Record<string, string> = { kind: this.kind };
    if (this.sqlstate !== null) out['sqlstate'] = this.sqlstate;
    if (this.constraint !== null) out['constraint'] = this.constraint;
    return out;
  }
}

/** The kind a server-reported SQLSTATE falls into. */
export function classifySqlstate(code: string): PgErrorKind {
  if (code === '23505') return 'unique_violation';
  if (code === '40001' || code === '40P01') return 'serialization';
  if (code === '57014' || code === '55P03') return 'canceled';
  if (code === '25006') return 'read_only';
  if (code === '53100') return 'disk_full';
  if (code.startsWith('28')) return 'auth';
  // 08: connection exception; 57P: admin or crash shutdown, cannot connect now, database dropped.
  if (code.startsWith('08') || code.startsWith('57P')) return 'connection';
  // 58030 io_error: the server could not write its files.
  if (code === '58030') return 'disk_full';
  return 'query';
}

/** A PgError from the fields of an ErrorResponse. */
export function serverError(fields: ServerFields): PgError {
  const code = fields['C'] ?? 'XX000';
  const severity = fields['V'] ?? fields['S'] ?? 'ERROR';
  const text = fields['M'] ?? 'error without a message';
  return new PgError(classifySqlstate(code), text, { sqlstate: code, severity, fields });
}

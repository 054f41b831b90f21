// One query in flight on a connection: the messages it expects, in the order the server sends
// them, and the one place its promise settles (answer, error, timeout or lost connection: whichever
// comes first wins, later ones are ignored).
import { serverError, type PgError } from './errors.ts';
import type { Entry, StatementCache } from './statements.ts';
import { buildRow, rowCountOf, type Row } from './values.ts';
import type { BackendMessage, Field } from './wire/decode.ts';

export type QueryOk = { ok: true; rows: Row[]; rowCount: number; command: string };
export type QueryResult = QueryOk | { ok: false; error: PgError };

export class Pending {
  readonly promise: Promise<QueryResult>;
  #resolve: (result: QueryResult) => void = () => {};
  readonly #name: string;
  readonly #entry: Entry | null;
  #expectClose: boolean;
  #expectParse: boolean;
  #bound = false;
  #fields: Field[] | null = null;
  #rows: Row[] = [];
  #tag: string | null = null;
  error: PgError | null = null;
  settled = false;
  cancelRequested = false;
  #timer: NodeJS.Timeout | null = null;
  #grace: NodeJS.Timeout | null = null;

  constructor(name: string, entry: Entry | null, expectClose: boolean, expectParse: boolean) {
    this.#name = name;
    this.#entry = entry;
    this.#expectClose = expectClose;
    this.#expectParse = expectParse;
    this.promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  startTimer(ms: number, onTimeout: () => void): void {
    this.#timer = setTimeout(onTimeout, ms);
  }

  startGrace(ms: number, onExpired: () => void): void {
    this.#grace = setTimeout(onExpired, ms);
  }

  /** Settles the promise once; false if it was already settled. */
  settle(result: QueryResult): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#resolve(result);
    return true;
  }

  fail(error: PgError): void {
    if (this.#grace !== null) clearTimeout(this.#grace);
    this.settle({ ok: false, error });
  }

  /** Takes the next message for this query; a string says what was out of order. */
  accept(message: BackendMessage, statements: StatementCache): string | null {
    // After an error the server skips to Sync; only a FATAL (it is shutting down) may still come.
    const fatal = message.type === 'error' && (message.fields['V'] === 'FATAL' || message.fields['V'] === 'PANIC');
    if (this.error !== null && message.type !== 'readyForQuery' && !fatal) return `${message.type} after an error, before ReadyForQuery`;
    switch (message.type) {
      case 'closeComplete':
        if (!this.#expectClose) return 'unexpected CloseComplete';
        this.#expectClose = false;
        return null;
      case 'parseComplete':
        if (this.#expectClose || !this.#expectParse) return 'unexpected ParseComplete';
        this.#expectParse = false;
        if (this.#entry !== null) this.#entry.state = 'ready';
        return null;
      case 'bindComplete':
        if (this.#expectClose || this.#expectParse || this.#bound) return 'unexpected BindComplete';
        this.#bound = true;
        return null;
      case 'rowDescription':
      case 'noData':
        if (!this.#bound || this.#fields !== null) return `unexpected ${message.type}`;
        this.#fields = message.type === 'noData' ? [] : message.fields;
        if (this.#fields.some((f) => f.format !== 0)) return 'a column in binary format, which was not asked for';
        return null;
      case 'dataRow': {
        if (this.#fields === null || this.#tag !== null) return 'unexpected DataRow';
        if (message.values.length !== this.#fields.length) return `a DataRow of ${message.values.length} columns for ${this.#fields.length}`;
        if (this.settled) return null;
        try {
          this.#rows.push(buildRow(this.#fields, message.values));
        } catch {
          return 'a column value that does not parse as its type';
        }
        return null;
      }
      case 'commandComplete':
      case 'emptyQuery':
        if (this.#fields === null || this.#tag !== null) return `unexpected ${message.type}`;
        this.#tag = message.type === 'emptyQuery' ? '' : message.tag;
        return null;
      case 'error':
        this.error = serverError(message.fields);
        this.#forgetStatement(statements);
        return null;
      case 'readyForQuery':
        if (this.error === null && this.#tag === null) return 'ReadyForQuery before the query completed';
        return null;
      case 'copy':
        return 'the server started COPY, which this client never asks for';
      default:
        return `unexpected ${message.type}`;
    }
  }

  #forgetStatement(statements: StatementCache): void {
    if (this.#entry === null || this.error === null) return;
    // Parse (or the Close before it) failed: the server does not have this statement.
    if (this.#expectParse || this.error.sqlstate === '26000') statements.forget(this.#name, this.#entry);
    // The schema changed under a prepared statement: Close and Parse it again next time.
    else if (this.error.sqlstate === '0A000' && this.error.routine === 'RevalidateCachedQuery') statements.markStale(this.#name, this.#entry);
  }

  /** At this query's ReadyForQuery. */
  finish(): void {
    if (this.#grace !== null) clearTimeout(this.#grace);
    if (this.error !== null) return void this.settle({ ok: false, error: this.error });
    const tag = this.#tag ?? '';
    const command = tag.replace(/(?: \d+)+$/, '');
    this.settle({ ok: true, rows: this.#rows, rowCount: rowCountOf(tag) ?? this.#rows.length, command });
  }
}

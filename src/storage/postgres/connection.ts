// One server connection: the startup handshake, then the extended query protocol with any number
// of queries in flight (pipelining). Each query is Parse?/Bind/Describe/Execute/Sync, so each ends
// in its own ReadyForQuery and an error in one (the server skips to its Sync) leaves the next one
// untouched. Answers come back in the order the queries were written; the head of `#pending` owns
// every message until its ReadyForQuery. Any message out of that order is a protocol error and
// drops the connection, failing what was in flight: no guessing which query a row belongs to.
// https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
import type { Socket } from 'node:net';
import { sendCancel } from './cancel.ts';
import { PgError, serverError } from './errors.ts';
import { Handshake, startupBytes } from './startup.ts';
import { StatementCache } from './statements.ts';
import { openTransport, type TransportOptions } from './transport.ts';
import type { PgConnectionConfig } from './url.ts';
import type { Row } from './values.ts';
import { decode, type BackendMessage } from './wire/decode.ts';
import { bind, closeStatement, describePortal, execute, parse, sync, terminate, type Param } from './wire/encode.ts';
import { FrameReader } from './wire/frames.ts';
import { Pending, type QueryResult } from './pending.ts';

export type { QueryResult } from './pending.ts';

export type Notification = { pid: number; channel: string; payload: string };

export type ConnectionOptions = TransportOptions &
  Readonly<{
    maxFrameBytes: number;
    /** How long a timed-out statement may take to stop after the cancel before the connection is dropped. */
    cancelGraceMs: number;
    onNotification?: (notification: Notification) => void;
    onNotice?: (fields: Readonly<Record<string, string>>) => void;
    /** The server reported an error while no query was in flight (e.g. it is shutting down). */
    onServerError?: (error: PgError) => void;
    /** Every query in flight has been answered. */
    onIdle?: (connection: Connection) => void;
    /** The connection ended; called once. The error is null after close(). */
    onClose?: (connection: Connection, error: PgError | null) => void;
  }>;

export type OpenResult = { ok: true; connection: Connection } | { ok: false; error: PgError };

export type ExecOptions = { name?: string; timeoutMs?: number };

/** Mistakes in the caller's code, thrown before anything is sent. */
export function checkStatement(sql: string, name: string | undefined, params: readonly Param[]): void {
  if (sql.includes('\0')) throw new TypeError('the SQL text must not contain a NUL character');
  if (name !== undefined && (name === '' || name.includes('\0') || Buffer.byteLength(name) > 63)) throw new TypeError('a statement name must be 1 to 63 bytes without NUL');
  if (params.length > 65535) throw new RangeError('at most 65535 parameters fit in one statement');
}

const lost = (): PgError => new PgError('connection', 'the connection to the server was lost');

export class Connection {
  readonly #socket: Socket;
  readonly #config: PgConnectionConfig;
  readonly #options: ConnectionOptions;
  readonly #reader: FrameReader;
  readonly #handshake: Handshake;
  readonly #statements = new StatementCache();
  readonly #pending: Pending[] = [];
  #phase: 'startup' | 'ready' | 'closed' = 'startup';
  #startupQueue = 0;
  #startupChain: Promise<void> = Promise.resolve();
  #opened: ((result: OpenResult) => void) | null = null;
  #pid = 0;
  #secretKey: Buffer | null = null;
  #serverError: PgError | null = null;
  #corked = false;
  /** The transaction status from the last ReadyForQuery: idle, in a transaction, or in a failed one. */
  transactionStatus: 'I' | 'T' | 'E' = 'I';
  readonly tls: boolean;

  static async open(config: PgConnectionConfig, options: ConnectionOptions): Promise<OpenResult> {
    const opened = await openTransport(config, options);
    if (!opened.ok) return opened;
    return new Connection(opened.transport.socket, opened.transport.tls, config, options).#start();
  }

  private constructor(socket: Socket, tls: boolean, config: PgConnectionConfig, options: ConnectionOptions) {
    this.#socket = socket;
    this.tls = tls;
    this.#config = config;
    this.#options = options;
    this.#reader = new FrameReader(options.maxFrameBytes);
    this.#handshake = new Handshake(config, tls);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (cause: unknown) => this.destroy(new PgError('connection', 'connection error', { cause })));
    socket.on('close', () => this.destroy(this.#serverError ?? lost()));
    socket.resume();
  }

  get parameters(): ReadonlyMap<string, string> {
    return this.#handshake.parameters;
  }

  get isReady(): boolean {
    return this.#phase === 'ready';
  }

  get inflight(): number {
    return this.#pending.length;
  }

  #start(): Promise<OpenResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.destroy(new PgError('connection', `startup timed out after ${this.#config.connectTimeoutMs} ms`)), this.#config.connectTimeoutMs);
      this.#opened = (result) => {
        clearTimeout(timer);
        this.#opened = null;
        resolve(result);
      };
      this.#socket.write(startupBytes(this.#config));
    });
  }

  #onData(chunk: Buffer): void {
    const result = this.#reader.push(chunk);
    if (!result.ok) return this.destroy(new PgError('protocol', result.problem));
    for (const frame of result.frames) {
      if (this.#phase === 'closed') return;
      const decoded = decode(frame);
      if (!decoded.ok) return this.destroy(new PgError('protocol', decoded.problem));
      if (this.#phase === 'startup' || this.#startupQueue > 0) this.#onStartupMessage(decoded.message);
      else this.#dispatch(decoded.message);
    }
  }

  /** Startup steps may await (PBKDF2), so they run one after another, in arrival order. */
  #onStartupMessage(message: BackendMessage): void {
    this.#startupQueue++;
    this.#startupChain = this.#startupChain.then(async () => {
      try {
        if (this.#phase === 'ready') return this.#dispatch(message);
        if (this.#phase !== 'startup') return;
        if (message.type === 'notice') return this.#options.onNotice?.(message.fields);
        const step = await this.#handshake.handle(message);
        if (this.#phase !== 'startup') return;
        if (step.kind === 'send') this.#socket.write(step.bytes);
        else if (step.kind === 'fail') this.destroy(step.error);
        else if (step.kind === 'ready') {
          this.#pid = step.pid;
          this.#secretKey = step.secretKey;
          this.#phase = 'ready';
          this.#opened?.({ ok: true, connection: this });
        }
      } finally {
        this.#startupQueue--;
      }
    });
  }

  /** Sends one statement; the promise settles with its rows or its error, never rejects. */
  query(sql: string, params: readonly Param[], options: ExecOptions = {}): Promise<QueryResult> {
    checkStatement(sql, options.name, params);
    if (this.#phase !== 'ready') return Promise.resolve({ ok: false, error: this.#serverError ?? lost() });
    const name = options.name ?? '';
    const bound = bind('', name, params);
    const parts: Buffer[] = [];
    const used = name === '' ? null : this.#statements.use(name, sql);
    if (used?.close === true) parts.push(closeStatement(name));
    if (used === null || used.parse) parts.push(parse(name, sql));
    parts.push(bound, describePortal(''), execute(''), sync());
    const pending = new Pending(name, used?.entry ?? null, used?.close === true, used === null || used.parse);
    this.#pending.push(pending);
    this.#write(Buffer.concat(parts));
    if (options.timeoutMs !== undefined) pending.startTimer(options.timeoutMs, () => this.#timedOut(pending, options.timeoutMs ?? 0));
    return pending.promise;
  }

  /** Writes made in one tick leave in as few packets as the kernel allows. */
  #write(bytes: Buffer): void {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(bytes);
  }

  #timedOut(pending: Pending, ms: number): void {
    if (!pending.settle({ ok: false, error: new PgError('timeout', `the query did not finish within ${ms} ms; it may or may not have taken effect`) })) return;
    if (this.#pending[0] === pending) this.#cancel(pending);
  }

  /**
   * Asks the server to stop the statement at the head of the pipeline. If it is still running after
   * the grace period (the cancel was lost, the server hangs, the network is gone), the connection
   * is dropped: nothing waits forever on it. Unlike pg's query_timeout, which only stops waiting.
   */
  #cancel(pending: Pending): void {
    if (pending.cancelRequested) return;
    pending.cancelRequested = true;
    const key = this.#secretKey;
    if (key === null) return this.destroy(new PgError('connection', 'a query timed out and this server cannot be sent a cancel request'));
    pending.startGrace(this.#options.cancelGraceMs, () => {
      if (this.#pending.includes(pending)) this.destroy(new PgError('connection', 'a timed-out query did not stop after a cancel request'));
    });
    void sendCancel(this.#config, this.#options, this.#pid, key, () => this.#pending[0] === pending && this.#phase === 'ready');
  }

  #dispatch(message: BackendMessage): void {
    switch (message.type) {
      case 'notification':
        return this.#options.onNotification?.({ pid: message.pid, channel: message.channel, payload: message.payload });
      case 'notice':
        return this.#options.onNotice?.(message.fields);
      case 'parameterStatus':
        this.#handshake.parameters.set(message.name, message.value);
        if (message.name === 'client_encoding' && message.value !== 'UTF8') this.destroy(new PgError('protocol', 'client_encoding was changed away from UTF8'));
        return;
      default:
        break;
    }
    const head = this.#pending[0];
    if (head === undefined) {
      if (message.type !== 'error') return this.destroy(new PgError('protocol', `unexpected ${message.type} with no query in flight`));
      // Typically FATAL "terminating connection due to administrator command"; the close follows.
      this.#serverError = serverError(message.fields);
      this.#options.onServerError?.(this.#serverError);
      return;
    }
    const problem = head.accept(message, this.#statements);
    if (problem !== null) return this.destroy(new PgError('protocol', problem));
    if (message.type === 'error' && (head.error?.severity === 'FATAL' || head.error?.severity === 'PANIC')) this.#serverError = head.error;
    if (message.type !== 'readyForQuery') return;
    this.transactionStatus = message.status;
    this.#pending.shift();
    head.finish();
    const next = this.#pending[0];
    if (next === undefined) this.#options.onIdle?.(this);
    else if (next.settled) this.#cancel(next);
  }

  /** Fails everything in flight and closes the socket. Idempotent. */
  destroy(error: PgError): void {
    if (this.#phase === 'closed') return;
    const wasStarting = this.#phase === 'startup';
    this.#phase = 'closed';
    this.#socket.destroy();
    for (const pending of this.#pending.splice(0)) pending.fail(pending.error?.kind === 'connection' ? pending.error : error);
    if (wasStarting) this.#opened?.({ ok: false, error });
    else this.#options.onClose?.(this, error);
  }

  /** Says goodbye (Terminate) and closes; whatever is still in flight fails as closed. */
  close(): Promise<void> {
    if (this.#phase === 'closed') return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.#socket.once('close', () => resolve()));
    const error = new PgError('closed', 'the connection was closed');
    this.#phase = 'closed';
    for (const pending of this.#pending.splice(0)) pending.fail(error);
    this.#socket.end(terminate());
    const timer = setTimeout(() => this.#socket.destroy(), 2000);
    this.#options.onClose?.(this, null);
    return closed.then(() => clearTimeout(timer));
  }
}

export type { Row, Param };

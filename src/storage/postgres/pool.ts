// Up to `size` connections, opened on demand. A query goes to an idle connection, else (while the
// pool may grow) waits for a new one, else is pipelined onto the least busy connection, else waits
// in a bounded queue. When no connection is open and none can be opened yet (the last attempt
// failed and the backoff has not passed), it fails at once: callers see a typed 'connection'
// error right away instead of piling up behind a dead database.
import { Backoff } from './backoff.ts';
import { Connection, checkStatement, type ExecOptions } from './connection.ts';
import { PgError } from './errors.ts';
import type { PoolOptions } from './options.ts';
import type { QueryResult } from './pending.ts';
import type { PgConnectionConfig } from './url.ts';
import type { Param } from './wire/encode.ts';

export type PoolEvents = Readonly<{
  /** Failures that belong to no single query: a connect attempt failed, a connection was lost. */
  onError?: (error: PgError) => void;
  onNotice?: (fields: Readonly<Record<string, string>>) => void;
}>;

export type PoolStats = { open: number; idle: number; connecting: number; pinned: number; queued: number };

export type PinResult = { ok: true; connection: Connection } | { ok: false; error: PgError };

type Waiter = { timer: NodeJS.Timeout | null; fail: (error: PgError) => void } & (
  | { kind: 'query'; sql: string; params: readonly Param[]; name: string | undefined; deadline: number; resolve: (r: QueryResult) => void }
  | { kind: 'pin'; resolve: (r: PinResult) => void }
);

const closedError = (): PgError => new PgError('closed', 'the pool is closed');

export class Pool {
  readonly #config: PgConnectionConfig;
  readonly #options: PoolOptions;
  readonly #events: PoolEvents;
  readonly #backoff: Backoff;
  readonly #open = new Set<Connection>();
  readonly #pinned = new Set<Connection>();
  readonly #queue: Waiter[] = [];
  readonly #active = new Set<Promise<unknown>>();
  /** Statement names across every connection: one name, one SQL text (else a bug, thrown at the call). */
  readonly #names = new Map<string, string>();
  #connecting = 0;
  #lastError: PgError | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(config: PgConnectionConfig, options: PoolOptions, events: PoolEvents = {}) {
    this.#config = config;
    this.#options = options;
    this.#events = events;
    this.#backoff = new Backoff({ initialMs: options.backoffInitialMs, maxMs: options.backoffMaxMs });
  }

  stats(): PoolStats {
    let idle = 0;
    for (const c of this.#open) if (c.inflight === 0) idle++;
    return { open: this.#open.size + this.#pinned.size, idle, connecting: this.#connecting, pinned: this.#pinned.size, queued: this.#queue.length };
  }

  query(sql: string, params: readonly Param[], options: ExecOptions = {}): Promise<QueryResult> {
    checkStatement(sql, options.name, params);
    if (options.name !== undefined) {
      const known = this.#names.get(options.name);
      if (known !== undefined && known !== sql) throw new TypeError(`prepared statement name ${JSON.stringify(options.name)} is already used for other SQL`);
      this.#names.set(options.name, sql);
    }
    if (this.#closed) return Promise.resolve({ ok: false, error: closedError() });
    const timeoutMs = options.timeoutMs ?? this.#options.queryTimeoutMs;
    const now = Date.now();
    // While a transaction waits for a connection to drain, nothing more is pipelined onto busy
    // ones: otherwise a steady load keeps every connection busy and the transaction starves.
    const ready = this.#idle() ?? (this.#canGrow() || this.#pinsWaiting() ? null : this.#leastBusy());
    if (ready !== null) return this.#run(ready, sql, params, options.name, timeoutMs);
    const refused = this.#cannotServe();
    if (refused !== null) return Promise.resolve({ ok: false, error: refused });
    return new Promise((resolve) => {
      const fail = (error: PgError): void => resolve({ ok: false, error });
      this.#enqueue({ kind: 'query', sql, params, name: options.name, deadline: now + timeoutMs, resolve, fail, timer: null }, timeoutMs);
    });
  }

  /** A connection of its own for a transaction; give it back with release(). */
  pin(timeoutMs: number): Promise<PinResult> {
    if (this.#closed) return Promise.resolve({ ok: false, error: closedError() });
    const idle = this.#idle();
    if (idle !== null) return Promise.resolve({ ok: true, connection: this.#take(idle) });
    const refused = this.#cannotServe();
    if (refused !== null) return Promise.resolve({ ok: false, error: refused });
    return new Promise((resolve) => {
      const fail = (error: PgError): void => resolve({ ok: false, error });
      this.#enqueue({ kind: 'pin', resolve, fail, timer: null }, timeoutMs);
    });
  }

  /** Back into the pool if it is idle outside a transaction; otherwise its state is unknown: dropped. */
  release(connection: Connection): void {
    if (!this.#pinned.delete(connection)) return;
    if (connection.isReady && connection.inflight === 0 && connection.transactionStatus === 'I' && !this.#closed) {
      this.#open.add(connection);
      this.#pump();
    } else {
      connection.destroy(new PgError('connection', 'a transaction ended in an unknown state; its connection was dropped'));
    }
  }

  /** Keeps a promise (a transaction) in the set that close() waits for. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#active.add(promise);
    const forget = (): void => void this.#active.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  #enqueue(waiter: Waiter, timeoutMs: number): void {
    waiter.timer = setTimeout(() => {
      const index = this.#queue.indexOf(waiter);
      if (index !== -1) this.#queue.splice(index, 1);
      waiter.fail(new PgError('timeout', `no connection became free within ${timeoutMs} ms`));
    }, timeoutMs);
    this.#queue.push(waiter);
    this.#grow();
  }

  /** Why a new waiter cannot even queue: the queue is full, or there is nothing to wait for. */
  #cannotServe(): PgError | null {
    if (this.#queue.length >= this.#options.maxQueue) return new PgError('pool_full', `all ${this.#options.size} connections are busy and ${this.#queue.length} callers are waiting`);
    const nothingOpen = this.#open.size + this.#pinned.size + this.#connecting === 0;
    if (nothingOpen && !this.#canGrow()) return this.#lastError ?? new PgError('connection', 'no connection to the database');
    return null;
  }

  #pinsWaiting(): boolean {
    return this.#queue.some((w) => w.kind === 'pin');
  }

  #idle(): Connection | null {
    for (const c of this.#open) if (c.isReady && c.inflight === 0) return c;
    return null;
  }

  #leastBusy(): Connection | null {
    let best: Connection | null = null;
    for (const c of this.#open) if (c.isReady && c.inflight < this.#options.pipelineDepth && (best === null || c.inflight < best.inflight)) best = c;
    return best;
  }

  #take(connection: Connection): Connection {
    this.#open.delete(connection);
    this.#pinned.add(connection);
    return connection;
  }

  #canGrow(): boolean {
    return !this.#closed && this.#open.size + this.#pinned.size + this.#connecting < this.#options.size && this.#backoff.remaining() === 0;
  }

  #run(connection: Connection, sql: string, params: readonly Param[], name: string | undefined, timeoutMs: number): Promise<QueryResult> {
    const result = connection.query(sql, params, name === undefined ? { timeoutMs } : { name, timeoutMs });
    this.#active.add(result);
    return result.finally(() => {
      this.#active.delete(result);
      this.#pump();
    });
  }

  /** Hands queued waiters to connections with room; opens another connection if some still wait. */
  #pump(): void {
    let pinWaits = false;
    for (let i = 0; i < this.#queue.length; ) {
      const waiter = this.#queue[i];
      if (waiter === undefined) break;
      const connection = waiter.kind === 'pin' ? this.#idle() : (this.#idle() ?? (pinWaits ? null : this.#leastBusy()));
      if (connection === null) {
        if (waiter.kind === 'pin') pinWaits = true;
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      if (waiter.kind === 'pin') waiter.resolve({ ok: true, connection: this.#take(connection) });
      else void this.#run(connection, waiter.sql, waiter.params, waiter.name, Math.max(1, waiter.deadline - Date.now())).then(waiter.resolve, () => {});
    }
    if (this.#queue.length > 0) this.#grow();
  }

  #grow(): void {
    if (!this.#canGrow()) {
      this.#scheduleRetry();
      return;
    }
    this.#connecting++;
    void Connection.open(this.#config, {
      keepAliveMs: this.#options.keepAliveMs,
      maxFrameBytes: this.#options.maxFrameBytes,
      cancelGraceMs: this.#options.cancelGraceMs,
      ...(this.#events.onNotice === undefined ? {} : { onNotice: this.#events.onNotice }),
      onServerError: (error) => this.#events.onError?.(error),
      onIdle: () => this.#pump(),
      onClose: (connection, error) => this.#closedConnection(connection, error),
    }).then((opened) => {
      this.#connecting--;
      if (!opened.ok) return this.#connectFailed(opened.error);
      this.#backoff.succeeded();
      this.#lastError = null;
      if (this.#closed) return void opened.connection.close();
      this.#open.add(opened.connection);
      this.#pump();
    });
  }

  #connectFailed(error: PgError): void {
    this.#lastError = error;
    this.#backoff.failed();
    this.#events.onError?.(error);
    // With no connection left to wait for, waiters fail now rather than at their timeout.
    if (this.#open.size + this.#pinned.size + this.#connecting === 0) {
      for (const waiter of this.#queue.splice(0)) {
        if (waiter.timer !== null) clearTimeout(waiter.timer);
        waiter.fail(error);
      }
    } else {
      this.#scheduleRetry();
    }
  }

  /** Waiters remain but growth is blocked by the backoff: try again when it has passed. */
  #scheduleRetry(): void {
    if (this.#retryTimer !== null || this.#closed || this.#queue.length === 0) return;
    const delay = this.#backoff.remaining();
    if (delay === 0) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#pump();
    }, delay);
  }

  #closedConnection(connection: Connection, error: PgError | null): void {
    this.#open.delete(connection);
    this.#pinned.delete(connection);
    if (error !== null && !this.#closed) this.#events.onError?.(error);
    if (this.#queue.length > 0) this.#pump();
  }

  /** Fails the waiters, lets what is in flight finish, then closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    for (const waiter of this.#queue.splice(0)) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.fail(closedError());
    }
    await Promise.allSettled([...this.#active]);
    await Promise.all([...this.#open, ...this.#pinned].map((c) => c.close()));
  }
}

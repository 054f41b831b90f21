// LISTEN/NOTIFY on one dedicated connection (a pooled one would hand the subscription to whatever
// query runs next). When that connection is lost, it is reopened with backoff and every channel is
// LISTENed again; then each subscriber's onReconnect runs, because notifications sent while it was
// gone are lost for good: the caller re-reads what it may have missed.
// A ping every listenerPingMs notices a connection that died without a FIN.
import { Backoff } from './backoff.ts';
import { Connection, type Notification } from './connection.ts';
import { PgError } from './errors.ts';
import type { PoolOptions } from './options.ts';
import type { PgConnectionConfig } from './url.ts';

export type Subscriber = Readonly<{
  onNotify: (payload: string, notification: Notification) => void;
  /** LISTEN is active again after a lost connection: notifications may have been missed. */
  onReconnect: () => void;
  /** The LISTEN connection was lost: notifications sent from now until onReconnect are lost. */
  onDisconnect?: () => void;
}>;

export type ListenResult = { ok: true; unlisten: () => Promise<void> } | { ok: false; error: PgError };

/** LISTEN takes an identifier, not a parameter: quoted, so any channel name is one identifier. */
export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export class Listener {
  readonly #config: PgConnectionConfig;
  readonly #options: PoolOptions;
  readonly #onError: (error: PgError) => void;
  readonly #channels = new Map<string, Set<Subscriber>>();
  readonly #backoff: Backoff;
  #connection: Connection | null = null;
  #opening: Promise<Connection | PgError> | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(config: PgConnectionConfig, options: PoolOptions, onError: (error: PgError) => void) {
    this.#config = config;
    this.#options = options;
    this.#onError = onError;
    this.#backoff = new Backoff({ initialMs: options.backoffInitialMs, maxMs: options.backoffMaxMs });
  }

  async listen(channel: string, subscriber: Subscriber): Promise<ListenResult> {
    if (channel === '' || channel.includes('\0') || Buffer.byteLength(channel) > 63) throw new TypeError('a channel name must be 1 to 63 bytes without NUL');
    if (this.#closed) return { ok: false, error: new PgError('closed', 'the pool is closed') };
    const connection = await this.#ensure();
    if (connection instanceof PgError) return { ok: false, error: connection };
    let subscribers = this.#channels.get(channel);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#channels.set(channel, subscribers);
      subscribers.add(subscriber);
      const listened = await connection.query(`LISTEN ${quoteIdentifier(channel)}`, [], { timeoutMs: this.#options.queryTimeoutMs });
      if (!listened.ok) {
        this.#remove(channel, subscriber);
        return { ok: false, error: listened.error };
      }
    } else {
      subscribers.add(subscriber);
    }
    return { ok: true, unlisten: () => this.#unlisten(channel, subscriber) };
  }

  #remove(channel: string, subscriber: Subscriber): boolean {
    const subscribers = this.#channels.get(channel);
    if (subscribers === undefined || !subscribers.delete(subscriber)) return false;
    if (subscribers.size > 0) return false;
    this.#channels.delete(channel);
    return true;
  }

  async #unlisten(channel: string, subscriber: Subscriber): Promise<void> {
    if (!this.#remove(channel, subscriber)) return;
    // If the connection is gone, the server forgot the LISTEN already.
    await this.#connection?.query(`UNLISTEN ${quoteIdentifier(channel)}`, [], { timeoutMs: this.#options.queryTimeoutMs });
  }

  #ensure(): Promise<Connection | PgError> {
    if (this.#connection !== null && this.#connection.isReady) return Promise.resolve(this.#connection);
    this.#opening ??= this.#open().finally(() => (this.#opening = null));
    return this.#opening;
  }

  async #open(): Promise<Connection | PgError> {
    const opened = await Connection.open(this.#config, {
      keepAliveMs: this.#options.keepAliveMs,
      maxFrameBytes: this.#options.maxFrameBytes,
      cancelGraceMs: this.#options.cancelGraceMs,
      // Delivered after the connection has finished with the frame, so a throwing callback cannot
      // leave it half-way through a message.
      onNotification: (n) => queueMicrotask(() => this.#deliver(n)),
      onServerError: (error) => this.#onError(error),
      onClose: (connection, error) => this.#lost(connection, error),
    });
    if (!opened.ok) {
      this.#backoff.failed();
      this.#onError(opened.error);
      return opened.error;
    }
    if (this.#closed) {
      await opened.connection.close();
      return new PgError('closed', 'the pool is closed');
    }
    this.#backoff.succeeded();
    this.#connection = opened.connection;
    this.#pingTimer ??= setInterval(() => void this.#ping(), this.#options.listenerPingMs);
    this.#pingTimer.unref();
    return opened.connection;
  }

  #deliver(notification: Notification): void {
    for (const subscriber of this.#channels.get(notification.channel) ?? []) subscriber.onNotify(notification.payload, notification);
  }

  async #ping(): Promise<void> {
    // A timed-out ping is canceled, and a cancel that does not land drops the connection (lost()).
    await this.#connection?.query('SELECT 1', [], { timeoutMs: this.#options.queryTimeoutMs });
  }

  #lost(connection: Connection, error: PgError | null): void {
    const wasCurrent = this.#connection === connection;
    if (wasCurrent) this.#connection = null;
    if (error !== null && !this.#closed) this.#onError(error);
    if (wasCurrent && !this.#closed) for (const subscribers of this.#channels.values()) for (const subscriber of subscribers) subscriber.onDisconnect?.();
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#channels.size === 0 || this.#reconnectTimer !== null) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#reconnect();
    }, this.#backoff.remaining());
  }

  async #reconnect(): Promise<void> {
    const connection = await this.#ensure();
    if (connection instanceof PgError) return this.#scheduleReconnect();
    const channels = [...this.#channels.keys()];
    // Pipelined: one round trip for every channel.
    const results = await Promise.all(channels.map((c) => connection.query(`LISTEN ${quoteIdentifier(c)}`, [], { timeoutMs: this.#options.queryTimeoutMs })));
    const failed = results.find((r) => !r.ok);
    if (failed !== undefined && !failed.ok) {
      this.#onError(failed.error);
      connection.destroy(new PgError('connection', 'LISTEN failed after a reconnect'));
      return;
    }
    for (const channel of channels) for (const subscriber of this.#channels.get(channel) ?? []) subscriber.onReconnect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    this.#channels.clear();
    const opening = this.#opening;
    if (opening !== null) await opening;
    await this.#connection?.close();
  }
}

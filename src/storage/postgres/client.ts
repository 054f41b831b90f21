// The client's public face: createPool(config, events) → query, transaction, listen, close.
// Expected failures (a lost connection, a timeout, a constraint, a full pool) are values with a
// typed PgError; only mistakes in the calling code throw.
import type { ExecOptions } from './connection.ts';
import { PgError } from './errors.ts';
import { Listener, type ListenResult } from './listener.ts';
import { poolOptions, type PoolOptions } from './options.ts';
import type { QueryResult } from './pending.ts';
import { Pool, type PoolEvents, type PoolStats } from './pool.ts';
import { runTransaction, type TransactionOptions, type TransactionResult, type Tx } from './transaction.ts';
import type { PgConnectionConfig } from './url.ts';
import type { Param } from './wire/encode.ts';
import type { Notification } from './connection.ts';

export type PgClient = {
  query(sql: string, params?: readonly Param[], options?: ExecOptions): Promise<QueryResult>;
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<TransactionResult<T>>;
  /** onDisconnect: the LISTEN connection was lost (onReconnect follows once it is back). */
  listen(channel: string, onNotify: (payload: string, notification: Notification) => void, onReconnect: () => void, onDisconnect?: () => void): Promise<ListenResult>;
  stats(): PoolStats;
  /** Fails whoever waits for a connection, lets in-flight queries finish, closes every connection. */
  close(): Promise<void>;
};

export function createPool(config: PgConnectionConfig, events: PoolEvents & { options?: Partial<PoolOptions> } = {}): PgClient {
  const options = poolOptions(events.options);
  const onError = (error: PgError): void => events.onError?.(error);
  const pool = new Pool(config, options, { onError, ...(events.onNotice === undefined ? {} : { onNotice: events.onNotice }) });
  const listener = new Listener(config, options, onError);
  return {
    query: (sql, params = [], queryOptions = {}) => pool.query(sql, params, queryOptions),
    transaction: (fn, transactionOptions) => pool.track(runTransaction(pool, options.queryTimeoutMs, fn, transactionOptions)),
    listen: (channel, onNotify, onReconnect, onDisconnect) => listener.listen(channel, { onNotify, onReconnect, ...(onDisconnect !== undefined && { onDisconnect }) }),
    stats: () => pool.stats(),
    close: async () => {
      await listener.close();
      await pool.close();
    },
  };
}

export type { ExecOptions, ListenResult, Notification, Param, PoolEvents, PoolOptions, PoolStats, QueryResult, TransactionResult, Tx };
export type { QueryOk } from './pending.ts';
export type { Row, Value } from './values.ts';
export { PgError, type PgErrorKind } from './errors.ts';
export { parsePostgresUrl, isPostgresUrl, type PgConnectionConfig, type SslMode, type ParsedUrl } from './url.ts';
export { DEFAULT_POOL_OPTIONS } from './options.ts';

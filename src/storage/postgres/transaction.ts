// BEGIN … COMMIT on one pinned connection: no other caller's statement can run inside it, and the
// caller's own statements may be pipelined (issue several, await them together). The first failed
// statement fails the transaction: it is rolled back and that failure is the result. A throw from
// the callback (a bug) rolls back too, and is rethrown.
import type { Connection, ExecOptions } from './connection.ts';
import { PgError } from './errors.ts';
import type { QueryResult } from './pending.ts';
import type { Pool } from './pool.ts';
import type { Param } from './wire/encode.ts';

export type Tx = {
  query(sql: string, params?: readonly Param[], options?: ExecOptions): Promise<QueryResult>;
};

export type TransactionResult<T> = { ok: true; value: T } | { ok: false; error: PgError };

export type TransactionOptions = { timeoutMs?: number };

export async function runTransaction<T>(pool: Pool, defaultTimeoutMs: number, fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<TransactionResult<T>> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const pinned = await pool.pin(timeoutMs);
  if (!pinned.ok) return pinned;
  const connection = pinned.connection;
  try {
    return await inside(connection, timeoutMs, fn);
  } finally {
    pool.release(connection);
  }
}

async function inside<T>(connection: Connection, timeoutMs: number, fn: (tx: Tx) => Promise<T>): Promise<TransactionResult<T>> {
  const begun = await connection.query('BEGIN', [], { timeoutMs });
  if (!begun.ok) return begun;
  let open = true;
  let failure: PgError | null = null;
  const issued: Promise<QueryResult>[] = [];
  const tx: Tx = {
    query(sql, params = [], queryOptions = {}) {
      if (!open) throw new Error('transaction query after the transaction ended');
      const result = connection.query(sql, params, { timeoutMs, ...queryOptions }).then((r) => {
        if (!r.ok && failure === null) failure = r.error;
        return r;
      });
      issued.push(result);
      return result;
    },
  };
  let value: T;
  try {
    value = await fn(tx);
  } catch (error) {
    open = false;
    await Promise.allSettled(issued);
    await rollback(connection, timeoutMs);
    throw error;
  }
  open = false;
  // Statements the callback started but did not await still belong to this transaction.
  await Promise.all(issued);
  if (failure !== null) {
    await rollback(connection, timeoutMs);
    return { ok: false, error: failure };
  }
  const committed = await connection.query('COMMIT', [], { timeoutMs });
  if (!committed.ok) return committed;
  // COMMIT of a transaction the server already aborted answers ROLLBACK, not an error.
  if (committed.command !== 'COMMIT') return { ok: false, error: new PgError('query', 'the transaction was rolled back by the server') };
  return { ok: true, value };
}

async function rollback(connection: Connection, timeoutMs: number): Promise<void> {
  if (!connection.isReady) return;
  const rolled = await connection.query('ROLLBACK', [], { timeoutMs });
  // If even ROLLBACK fails, the connection is in an unknown state; release() drops it.
  if (!rolled.ok) connection.destroy(new PgError('connection', 'ROLLBACK failed; the connection was dropped'));
}

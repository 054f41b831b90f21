// What the HTTP thread and a storage worker say to each other. Values cross by structured clone.
import type { MigrationReport } from './migrations.ts';
import type { InsertResult, ListFilter, NewMessage, Page, Stats } from '../store.ts';

export type WorkerInit = Readonly<{ path: string; busyTimeoutMs: number; role: 'writer' | 'reader'; maxPageCount?: number }>;

/** The first message a worker sends: its database is open (and migrated, for the writer), or not. */
export type Hello = { ready: true; migration: MigrationReport | null } | { ready: false; error: unknown };

/** Each operation's argument and what it answers with. */
export type Ops = {
  insert: { arg: readonly NewMessage[]; result: InsertResult[] };
  list: { arg: ListFilter; result: Page };
  stats: { arg: null; result: Stats };
  ping: { arg: null; result: true };
  writable: { arg: null; result: boolean };
  close: { arg: null; result: true };
};
export type Op = keyof Ops;

export type Request = { [K in Op]: { id: number; op: K; arg: Ops[K]['arg'] } }[Op];
export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

/** Most inserts one transaction takes; the rest go in the next one, so latency stays bounded. */
export const MAX_BATCH = 512;

// What the HTTP thread and a storage worker say to each other. Values cross by structured clone.
import type { WriteResult } from './database.ts';
import type { MigrationReport } from './migrations.ts';
import type { ArrivalFilter, ListFilter, MatchFilter, NewMessage, Page, Position, Replay, ScanPage, Stats } from '../store.ts';

export type WorkerInit = Readonly<{ path: string; busyTimeoutMs: number; role: 'writer' | 'reader'; maxPageCount?: number }>;

/**
 * The first message a worker sends: its database is open (and migrated, for the writer), with the
 * cursor key read from it, or not.
 */
export type Hello = { ready: true; migration: MigrationReport | null; cursorKey: Uint8Array } | { ready: false; error: unknown };

/** Each operation's argument and what it answers with. */
export type Ops = {
  insert: { arg: readonly NewMessage[]; result: WriteResult[] };
  list: { arg: ListFilter; result: Page };
  scan: { arg: { filter: MatchFilter; after: Position | null; limit: number }; result: ScanPage };
  replay: { arg: { after: number; filter: ArrivalFilter; limit: number }; result: Replay };
  stats: { arg: null; result: Stats };
  ping: { arg: null; result: true };
  writable: { arg: null; result: boolean };
  close: { arg: null; result: true };
};
export type Op = keyof Ops;

/**
 * The ops whose argument is the messages to store and whose answer is one WriteResult per message.
 * Their answers feed the live tails (commit-feed.ts): an op added to commit messages belongs here.
 */
export const COMMITTING_OPS: ReadonlySet<Op> = new Set<Op>(['insert']);

export type Request = { [K in Op]: { id: number; op: K; arg: Ops[K]['arg'] } }[Op];
export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

/** Most inserts one transaction takes; the rest go in the next one, so latency stays bounded. */
export const MAX_BATCH = 512;

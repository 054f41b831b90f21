// The narrow storage interface the handlers depend on. Every call is asynchronous because SQLite
// runs in worker threads (worker-store.ts), so no query or fsync ever blocks the thread serving
// HTTP. Storage failures are values, not throws, so no SQLite error can reach a response; the
// error itself is kept for the log.
import type { Message, StoredMessage } from '../domain/message.ts';
import type { InstantKey } from '../domain/timestamp.ts';

export type Failed = { ok: false; error: unknown };

export type InsertResult = { ok: true; created: boolean } | Failed;

/** A message as the writer stores it: stamped with the time it was received. */
export type NewMessage = Message & Readonly<{ createdAt: string }>;

export type ListFilter = Readonly<{
  limit: number;
  offset: number;
  from: string | null;
  since: InstantKey | null;
  /** Raw query text; the store folds it the same way it folds stored text. */
  q: string | null;
}>;

export type Page = { data: StoredMessage[]; total: number };

export type Stats = {
  total_messages: number;
  senders_count: number;
  messages_per_sender: { from: string; count: number }[];
  first_message_ts: string | null;
  last_message_ts: string | null;
};

export type Store = {
  /**
   * Stores the message if its id is new; an existing row is never changed (first write wins).
   * Resolves once the outcome is committed durably.
   */
  insert(message: Message): Promise<InsertResult>;
  /**
   * Stores several messages in one transaction (group-committed with whatever else is queued),
   * each idempotently as insert() does; one result per message, in order, once committed. A
   * failure fails its messages, never an answer of another; an empty list resolves at once.
   */
  insertMany(messages: readonly Message[]): Promise<InsertResult[]>;
  list(filter: ListFilter): Promise<{ ok: true; page: Page } | Failed>;
  stats(): Promise<{ ok: true; stats: Stats } | Failed>;
  /** True when the messages table answers a query. */
  ping(): Promise<boolean>;
  /**
   * False while the database cannot take writes: the last commit failed for lack of space or an
   * I/O error and a probe write still fails. True again as soon as a write succeeds.
   */
  writable(): Promise<boolean>;
  /** Commits what is queued, then closes the database. */
  close(): Promise<void>;
};

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

/** The filters GET /messages and GET /messages/export share; null means "no filter". */
export type MatchFilter = Readonly<{
  from: string | null;
  /** At or after this instant. */
  since: InstantKey | null;
  /** Strictly before this instant. */
  until: InstantKey | null;
  /** Raw query text; the store folds it the same way it folds stored text. */
  q: string | null;
}>;

/** A place in the list order (ts instant, then message_id): just after the message with this key and id. */
export type Position = Readonly<{ tsKey: InstantKey; messageId: string }>;

/** The list order (ts instant, then message_id), or its reverse: newest first. */
export type ListOrder = 'asc' | 'desc';

export type ListFilter = MatchFilter & Readonly<{
  limit: number;
  offset: number;
  /** Keyset paging: only messages after this position in the list order (offset is then 0). */
  after: Position | null;
  /** Absent: 'asc'. With 'desc' the page, its offset and `after` run newest first. */
  order?: ListOrder;
}>;

/** One page of GET /messages; `next` is the position after its last row, null when no match follows. */
export type Page = { data: StoredMessage[]; total: number; next: Position | null };

/** One page of an export: read from its own snapshot, no count. `next` is null at the end. */
export type ScanPage = { rows: StoredMessage[]; next: Position | null };

/**
 * A stored message and its place in the store's arrival sequence: `seq` is strictly increasing in
 * commit order, never reused, and the same for every replica sharing the database.
 */
export type Arrival = Readonly<{ seq: number; message: StoredMessage }>;

export type ArrivalFilter = Readonly<{ from: string | null; q: string | null }>;

/**
 * Arrivals after a seq, from one snapshot. `head` is the highest seq stored in that snapshot;
 * `more` says whether matching arrivals beyond the last one returned (and up to `head`) remain.
 */
export type Replay = { arrivals: Arrival[]; head: number; more: boolean };

/** Told of every committed batch of new messages (never duplicates), in seq order. */
export type CommitListener = {
  committed(arrivals: readonly Arrival[]): void;
  /** Commits may have happened that will never be reported (a storage worker died mid-batch). */
  lost(): void;
};

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
  /** Up to `limit` matches after `after` in list order (fewer when the rows are large). */
  scan(filter: MatchFilter, after: Position | null, limit: number): Promise<{ ok: true; page: ScanPage } | Failed>;
  /** Up to `limit` matching arrivals with seq > `after`, in seq order; limit 0 reads only the head. */
  replay(after: number, filter: ArrivalFilter, limit: number): Promise<{ ok: true; replay: Replay } | Failed>;
  /**
   * Every batch committed after this call returns is reported to the listener, in seq order
   * (a batch committed just before may be reported too). Returns the unsubscribe function.
   */
  subscribe(listener: CommitListener): () => void;
  /**
   * 32 random bytes kept in the database (made once, by a migration) that sign list cursors, so a
   * cursor stays valid across restarts and across replicas sharing the database.
   */
  readonly cursorKey: Uint8Array;
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

// What the HTTP thread and a storage worker say to each other. Values cross by structured clone;
// inserts in a packed form (below).
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

// The insert op's messages and answers cross in a compact form, because every delivery makes the
// trip: the messages as one flat list of their seven fields (no object, no property names to clone
// per message), the answers as one number per message in a transferred Float64Array (its seq when
// created, 0 for a duplicate, -1 when it failed) with the failures' errors beside it, in order.

type Packed = readonly (string | null)[];
export type PackedAnswers = { seqs: Float64Array; errors: unknown[] };
const FIELDS = 7;
const DUPLICATE: WriteResult = Object.freeze({ ok: true, created: false });

export function packMessages(messages: readonly NewMessage[]): Packed {
  const flat = new Array<string | null>(messages.length * FIELDS);
  let at = 0;
  for (const m of messages) {
    flat[at++] = m.messageId;
    flat[at++] = m.from;
    flat[at++] = m.to;
    flat[at++] = m.ts;
    flat[at++] = m.tsKey;
    flat[at++] = m.text;
    flat[at++] = m.createdAt;
  }
  return flat;
}

export function unpackMessages(flat: Packed): NewMessage[] {
  const messages: NewMessage[] = [];
  const s = (i: number): string => flat[i] ?? '';
  for (let at = 0; at + FIELDS <= flat.length; at += FIELDS) {
    messages.push({ messageId: s(at), from: s(at + 1), to: s(at + 2), ts: s(at + 3), tsKey: s(at + 4), text: flat[at + 5] ?? null, createdAt: s(at + 6) });
  }
  return messages;
}

export function packAnswers(results: readonly WriteResult[]): PackedAnswers {
  const seqs = new Float64Array(results.length);
  const errors: unknown[] = [];
  results.forEach((r, i) => {
    if (!r.ok) {
      seqs[i] = -1;
      errors.push(r.error);
    } else seqs[i] = r.created ? r.seq : 0;
  });
  return { seqs, errors };
}

export function unpackAnswers(packed: PackedAnswers): WriteResult[] {
  const results: WriteResult[] = [];
  let failed = 0;
  for (const seq of packed.seqs) {
    results.push(seq > 0 ? { ok: true, created: true, seq } : seq === 0 ? DUPLICATE : { ok: false, error: packed.errors[failed++] });
  }
  return results;
}

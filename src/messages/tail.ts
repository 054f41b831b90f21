// One live-tail stream: replay from the database after the client's Last-Event-ID, then the live
// arrivals, with nothing missed or repeated across the handover.
//
// Why it holds: the stream joins the fan-out (subscribers.ts) before its first replay read. Every
// batch the HTTP thread learns of after joining is offered to it; any batch it learned of before
// was committed before, so the replay snapshot (taken later) contains it. While replaying, offered
// batches are kept; when a replay page reaches the end of its snapshot (`more` false), everything
// up to that snapshot's head has been covered, so kept arrivals at or below it are dropped and the
// rest are sent: every seq exactly once, in order. If the kept batches outgrow the unread limit
// during a long replay they are dropped and replay simply goes on from the database, which has them.
import type { StreamBody, StreamEnd } from '../http/reply.ts';
import type { Logger } from '../log/logger.ts';
import type { ArrivalFilter, Replay, Store } from '../storage/store.ts';
import type { ArrivalBatch, LiveFilter } from './arrival-batch.ts';
import { encodePieces } from './pieces.ts';
import { eventFrame, HEARTBEAT, positionFrame } from './sse.ts';
import type { Member } from './subscribers.ts';

export type TailOptions = {
  store: Pick<Store, 'replay'>;
  logger: Logger;
  filter: ArrivalFilter;
  live: LiveFilter;
  heartbeatMs: number;
  /** More than this many bytes waiting for a client that does not read: it is disconnected. */
  maxUnreadBytes: number;
  /** Arrivals per replay page. */
  replayPage: number;
};

export type Tail = {
  member: Member;
  body: StreamBody;
  /**
   * Starts the stream from the first replay read: after the client's last id, or (null) from the
   * head of the store for a new client. `leave` removes it from the fan-out when it ends.
   */
  start(first: Replay, after: number | null, leave: () => void): void;
};

export function createTail(options: TailOptions): Tail {
  let live = false;
  /** Every seq up to here has been sent or lies outside the filters. */
  let position = 0;
  /** Replay continues after this seq while `replaying`. */
  let cursor = 0;
  let replaying = false;
  /** The last id the client has: from its Last-Event-ID, an event, or a position frame. */
  let lastId = -1;
  let kept: ArrivalBatch[] = [];
  let keptBytes = 0;
  let overflowed = false;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let waiter: (() => void) | null = null;
  let failure: Error | null = null;
  let closed = false;
  let leave = (): void => {};
  let endBy: ((why: 'cut_off' | 'failed') => void) | null = null;
  let endedBy: 'cut_off' | 'failed' | null = null;
  const end = (why: 'cut_off' | 'failed'): void => {
    if (endedBy !== null) return;
    endedBy = why;
    endBy?.(why);
  };
  let timer: NodeJS.Timeout | undefined;
  let events = 0;
  let replayed = 0;

  const wake = (): void => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  const queue = (data: string | Buffer): void => {
    if (data.length === 0) return;
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    pending.push(chunk);
    pendingBytes += chunk.length;
    // Only live arrivals pile up behind a client that does not read; replay waits for it instead.
    if (live && pendingBytes > options.maxUnreadBytes) end('cut_off');
    wake();
  };

  /** Applies one replay page: its events, then (at the end of its snapshot) the handover to live. */
  function replayedPage(page: Replay): void {
    const frames: string[] = [];
    for (const arrival of page.arrivals) {
      frames.push(eventFrame(arrival));
      cursor = arrival.seq;
      lastId = arrival.seq;
    }
    events += page.arrivals.length;
    replayed += page.arrivals.length;
    if (page.more) {
      queue(encodePieces(frames));
      return;
    }
    cursor = Math.max(cursor, page.head);
    if (overflowed) {
      // Arrivals were dropped while replaying; the database has them: go on replaying.
      overflowed = false;
      queue(encodePieces(frames));
      return;
    }
    // The client's resume point moves to the head even when nothing after it matched.
    const caughtUp = Math.max(position, cursor);
    if (caughtUp !== lastId) frames.push(positionFrame(caughtUp));
    lastId = caughtUp;
    position = caughtUp;
    replaying = false;
    queue(encodePieces(frames));
    for (const batch of kept) queue(framesOf(batch));
    kept = [];
    keptBytes = 0;
    live = true;
  }

  function framesOf(batch: ArrivalBatch): Buffer | string {
    if (batch.lastSeq <= position) return '';
    const { chunk, count } = batch.frames(options.live, position);
    position = batch.lastSeq;
    events += count;
    return chunk;
  }

  const member: Member = {
    offer(batch) {
      if (closed) return;
      if (live) {
        queue(framesOf(batch));
        return;
      }
      kept.push(batch);
      keptBytes += batch.bytes();
      if (keptBytes > options.maxUnreadBytes) {
        kept = [];
        keptBytes = 0;
        overflowed = true;
      }
    },
    lost() {
      failure = new Error('the live feed of committed messages was interrupted');
      end('failed');
      wake();
    },
  };

  const body: StreamBody = {
    open(endStream) {
      endBy = endStream;
      if (endedBy !== null) endStream(endedBy);
      // Fires heartbeatMs after the last chunk was taken (each take refreshes it): an idle
      // connection carries a comment line every heartbeatMs, a busy one none.
      const beat = (): void => {
        if (live && pending.length === 0) queue(HEARTBEAT);
        timer?.refresh();
      };
      timer = setTimeout(beat, options.heartbeatMs);
      timer.unref();
    },
    async next() {
      for (;;) {
        if (failure !== null) throw failure;
        if (closed) return null;
        const chunk = pending.shift();
        if (chunk !== undefined) {
          // One queued chunk at a time, not joined: most are shared by every stream, and a copy per
          // stream would cost more than a write each (writes that wait on a full socket go out together).
          pendingBytes -= chunk.length;
          timer?.refresh();
          return chunk;
        }
        if (replaying) {
          const page = await options.store.replay(cursor, options.filter, options.replayPage);
          if (closed) return null;
          if (!page.ok) {
            options.logger.error('storage read failed', page.error, { during: 'stream replay' });
            throw new Error('replay failed');
          }
          replayedPage(page.replay);
          continue;
        }
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
    close(_end: StreamEnd) {
      closed = true;
      clearTimeout(timer);
      kept = [];
      pending.length = 0;
      leave();
      wake();
    },
    log: () => ({ events, replayed, last_event_id: position }),
  };

  return {
    member,
    body,
    start(first, after, leaveFn) {
      leave = leaveFn;
      if (closed) {
        leave();
        return;
      }
      // A new client starts at the head (its first frame says so); an id past the head (another
      // database, a restore) resumes from the head too.
      position = after === null ? first.head : Math.min(after, first.head);
      cursor = position;
      if (after !== null) lastId = after;
      replaying = true;
      replayedPage(first);
    },
  };
}

// The open live-tail streams: at most MAX_STREAMS at once, and the fan-out of committed batches to
// them, in the HTTP thread, from what the writer committed (no read per stream). Batches committed
// within FANOUT_MS are fanned out together, so a hundred streams cost a hundred socket writes per
// tick rather than per commit (at thousands of deliveries a second a commit comes every few ms);
// the frames of a tick are built and encoded once, for all of them (arrival-batch.ts). The store
// is subscribed to only while a stream is open, so ingest pays nothing for the feature otherwise.
import type { Gauge } from '../metrics/gauge.ts';
import type { Arrival, CommitListener, Store } from '../storage/store.ts';
import { createArrivalBatch, type ArrivalBatch } from './arrival-batch.ts';

/** The longest a committed message waits before it is sent to the open streams. */
export const FANOUT_MS = 25;

/** What the registry tells one stream. */
export type Member = {
  offer(batch: ArrivalBatch): void;
  /** Commits may have happened that will never be offered: the stream must end (its client resumes). */
  lost(): void;
};

export type Subscribers = {
  readonly open: number;
  readonly max: number;
  /** Adds a stream, or returns null when `max` are open. The returned function removes it (once). */
  join(member: Member): (() => void) | null;
};

export function createSubscribers(options: { store: Pick<Store, 'subscribe'>; max: number; gauge: Gauge; fanoutMs?: number }): Subscribers {
  const members = new Set<Member>();
  let unsubscribe: (() => void) | null = null;
  let waiting: Arrival[] = [];
  let timer: NodeJS.Timeout | null = null;
  options.gauge.set(0);

  function fanOut(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (waiting.length === 0) return;
    const batch = createArrivalBatch(waiting);
    waiting = [];
    for (const member of [...members]) member.offer(batch);
  }

  const listener: CommitListener = {
    committed(arrivals) {
      for (const a of arrivals) waiting.push(a);
      if (timer === null) {
        timer = setTimeout(fanOut, options.fanoutMs ?? FANOUT_MS);
        timer.unref();
      }
    },
    lost() {
      fanOut();
      for (const member of [...members]) member.lost();
    },
  };

  return {
    get open() {
      return members.size;
    },
    max: options.max,
    join(member) {
      if (members.size >= options.max) return null;
      members.add(member);
      options.gauge.set(members.size);
      unsubscribe ??= options.store.subscribe(listener);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        members.delete(member);
        options.gauge.set(members.size);
        if (members.size === 0 && unsubscribe !== null) {
          fanOut(); // (to nobody: drops what waited)
          unsubscribe();
          unsubscribe = null;
        }
      };
    },
  };
}

// The open live-tail streams: at most MAX_STREAMS at once, and the fan-out of committed batches to
// them, in the HTTP thread, from what the writer committed (no read per stream). Fan-outs happen
// at most once per FANOUT_MS: a batch after a quiet spell goes out at once, and under sustained
// ingest (a commit every few ms) the batches of each window go out together, so a hundred streams
// cost a hundred socket writes per window rather than per commit; the frames of a fan-out are
// built and encoded once, for all of them (arrival-batch.ts). The store is subscribed to only
// while a stream is open, so ingest pays nothing for the feature otherwise.
import { performance } from 'node:perf_hooks';
import type { Gauge } from '../metrics/gauge.ts';
import type { Arrival, CommitListener, Store } from '../storage/store.ts';
import { createArrivalBatch, type ArrivalBatch } from './arrival-batch.ts';

/** The shortest time between two fan-outs, and so the longest a committed message waits for one. */
export const FANOUT_MS = 50;

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
  let lastFanOut = -Infinity;
  const fanoutMs = options.fanoutMs ?? FANOUT_MS;
  options.gauge.set(0);

  function fanOut(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    lastFanOut = performance.now();
    if (waiting.length === 0) return;
    const batch = createArrivalBatch(waiting);
    waiting = [];
    for (const member of [...members]) member.offer(batch);
  }

  const listener: CommitListener = {
    committed(arrivals) {
      for (const a of arrivals) waiting.push(a);
      if (timer === null) {
        timer = setTimeout(fanOut, Math.max(0, lastFanOut + fanoutMs - performance.now()));
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

// The open live-tail streams: at most MAX_STREAMS at once, and the fan-out of every committed batch
// to them, in the HTTP thread, from what the writer committed (no read per stream). The store is
// subscribed to only while a stream is open, so ingest pays nothing for the feature otherwise.
import type { Gauge } from '../metrics/gauge.ts';
import type { CommitListener, Store } from '../storage/store.ts';
import { createArrivalBatch, type ArrivalBatch } from './arrival-batch.ts';

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

export function createSubscribers(options: { store: Pick<Store, 'subscribe'>; max: number; gauge: Gauge }): Subscribers {
  const members = new Set<Member>();
  let unsubscribe: (() => void) | null = null;
  options.gauge.set(0);

  const listener: CommitListener = {
    committed(arrivals) {
      const batch = createArrivalBatch(arrivals);
      for (const member of [...members]) member.offer(batch);
    },
    lost() {
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
          unsubscribe();
          unsubscribe = null;
        }
      };
    },
  };
}

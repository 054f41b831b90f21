// Committed batches for the live tails, from every replica: each insert transaction that creates
// rows sends NOTIFY (inside the transaction, so only when it commits) with its origin, its batch
// number and its seq range. PostgreSQL delivers notifications in commit order, and the arrival
// step makes commit order seq order (writer.ts), so taking them in order gives batches in seq
// order. A replica's own batches are known already (kept from the insert's answer, by batch
// number); another's are read by their seq range. Reads start at once but batches are told
// strictly in notification order.
//
// Nothing is told while no one listens (no reads either). A stream that joins is told every batch
// whose notification is handled after it joined; any batch handled before was committed before,
// so the stream's first replay read (made after joining) sees it: nothing falls in between.
// While the LISTEN connection is down notifications are lost for good, so every listener is told
// lost() (its clients resume with Last-Event-ID and replay from the database), and one that joins
// then is told lost() at once.
import type { Arrival, CommitListener } from '../../store.ts';
import { tellListener as tell } from '../../tell.ts';

export type BatchRead = (first: number, last: number) => Promise<{ ok: true; arrivals: Arrival[] } | { ok: false; error: unknown }>;

export type Feed = {
  subscribe(listener: CommitListener): () => void;
  /** A batch number for the payload, and whether its arrivals should be kept for its notification. */
  begin(): { batch: number; keep: boolean };
  /** The batch committed (or at least reached COMMIT) with these arrivals. */
  arrived(batch: number, arrivals: readonly Arrival[]): void;
  /** The batch failed: if its notification still comes (a COMMIT whose answer was lost), it is read. */
  failed(batch: number): void;
  /** The NOTIFY payload prefix of this replica's batches. */
  readonly origin: string;
  notified(payload: string): void;
  /** LISTEN is active (again). */
  up(): void;
  /** The LISTEN connection is gone: notifications are being lost. */
  down(): void;
};

/** Own batches kept at most, waiting for their notifications (more are read back instead). */
const MAX_KEPT = 64;

const PAYLOAD = /^([0-9a-f]{1,32}):([0-9]{1,16}):([0-9]{1,20}):([0-9]{1,20})$/;

export function createFeed(origin: string, read: BatchRead): Feed {
  const listeners = new Set<CommitListener>();
  /** Own batches by number: their arrivals, or undefined until the insert's answer. */
  const kept = new Map<number, readonly Arrival[] | undefined>();
  let nextBatch = 1;
  let listening = false;
  let chain: Promise<void> = Promise.resolve();

  const tellAll = (arrivals: readonly Arrival[] | null): void => {
    if (arrivals !== null && arrivals.length === 0) return;
    for (const listener of [...listeners]) tell(listener, arrivals);
  };

  return {
    origin,
    subscribe(listener) {
      listeners.add(listener);
      if (!listening) queueMicrotask(() => listeners.has(listener) && tell(listener, null));
      return () => void listeners.delete(listener);
    },
    begin() {
      const batch = nextBatch++;
      const keep = listening && listeners.size > 0 && kept.size < MAX_KEPT;
      if (keep) kept.set(batch, undefined);
      return { batch, keep };
    },
    arrived(batch, arrivals) {
      if (kept.has(batch)) kept.set(batch, arrivals);
    },
    failed(batch) {
      kept.delete(batch);
    },
    notified(payload) {
      const m = PAYLOAD.exec(payload);
      if (m === null) return; // not ours (someone else NOTIFYing on the channel)
      const batch = Number(m[2]);
      const own = m[1] === origin ? kept.get(batch) : undefined;
      if (m[1] === origin) kept.delete(batch);
      if (listeners.size === 0) return;
      const first = Number(m[3]);
      const last = Number(m[4]);
      const got: Promise<readonly Arrival[] | null> = own !== undefined
        ? Promise.resolve(own)
        : read(first, last).then((r) => (r.ok ? r.arrivals : null), () => null);
      chain = chain.then(async () => tellAll(await got));
    },
    up() {
      listening = true;
    },
    down() {
      listening = false;
      kept.clear();
      chain = chain.then(() => tellAll(null));
    },
  };
}

// How a backend's commit feed tells one live-tail listener of a committed batch (or that the feed
// was lost, with null). Shared by SQLite's and PostgreSQL's feeds so both treat a faulty listener
// alike: its fault must never fail the deliveries whose commit it was told of, so it is told the
// feed is lost instead, which ends its streams (their clients resume from their last id).
import type { Arrival, CommitListener } from './store.ts';

export function tellListener(listener: CommitListener, arrivals: readonly Arrival[] | null): void {
  try {
    if (arrivals === null) listener.lost();
    else listener.committed(arrivals);
  } catch {
    if (arrivals !== null) tellListener(listener, null);
  }
}

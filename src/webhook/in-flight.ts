// A cap on webhook requests in progress at once. Past it a delivery is refused at once with a 503
// and Retry-After instead of joining an ever longer queue of bodies and inserts: the sender retries
// later, and latency and memory stay bounded however hard the service is flooded.

/** Default cap: about a quarter of a second of group-committed inserts on a small machine. */
export const MAX_IN_FLIGHT_WEBHOOKS = 1024;

export type InFlightLimit = {
  readonly max: number;
  readonly current: number;
  /** Takes a slot; false when all are taken. Every true must be paired with one release(). */
  tryAcquire(): boolean;
  release(): void;
};

export function createInFlightLimit(max: number): InFlightLimit {
  let current = 0;
  return {
    max,
    get current() {
      return current;
    },
    tryAcquire() {
      if (current >= max) return false;
      current += 1;
      return true;
    },
    release() {
      if (current > 0) current -= 1;
    },
  };
}

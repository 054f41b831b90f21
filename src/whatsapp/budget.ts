// A cap on the bytes of WhatsApp bodies being held at once. Envelopes may be 3 MiB, so a count of
// requests alone would not bound memory (1,024 of them would be 3 GiB): each request reserves its
// declared Content-Length (or the route's limit when it streams without one) before its body is
// read, and one that does not fit is refused at once with 503 "server busy" + Retry-After.

/**
 * Five 3 MiB envelopes, or thousands of ordinary ones (a few KB), in progress at once. Measured
 * (test/reliability/whatsapp-flood.test.ts): peak RSS stays flat from 32 to 256 connections
 * flooding 3 MiB bodies with it, and passes 1 GiB at 256 without it. A signed envelope costs
 * several times its size while it is parsed and stored, so the budget is kept small.
 */
export const WHATSAPP_BODY_BUDGET_BYTES = 16 * 1024 * 1024;

export type ByteBudget = {
  readonly capacity: number;
  readonly used: number;
  /** Takes `bytes`; false when they do not fit. Every true must be paired with release(bytes). */
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
};

export function createByteBudget(capacity: number): ByteBudget {
  let used = 0;
  return {
    capacity,
    get used() {
      return used;
    },
    tryReserve(bytes) {
      if (bytes > 0 && used + bytes > capacity) return false;
      used += bytes;
      return true;
    },
    release(bytes) {
      used = Math.max(0, used - bytes);
    },
  };
}

/** The budget for a route limit: never less than one body of the largest accepted size. */
export function budgetFor(maxBodyBytes: number, budgetBytes: number = WHATSAPP_BODY_BUDGET_BYTES): number {
  return Math.max(budgetBytes, maxBodyBytes);
}

/** What a request must reserve: its declared length, 0 when that is over the limit (refused unread), else the limit. */
export function bytesToReserve(contentLength: string | undefined, limit: number): number {
  const declared = contentLength === undefined ? NaN : Number(contentLength);
  if (!Number.isSafeInteger(declared) || declared < 0) return limit;
  return declared > limit ? 0 : declared;
}

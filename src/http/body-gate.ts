// A bound on bodies still arriving before their signature can be checked. Anyone who can reach the
// port can start a signed route's body without knowing the secret, so these readers are capped in
// number, in bytes and in time, apart from the cap on verified work (webhook/in-flight.ts):
// - a body whose bytes have all arrived with its headers needs no place here (the usual delivery:
//   one small packet), so a signed delivery is never kept out by uploads that stall;
// - at most `maxReaders` bodies, together reserving at most `maxBytes` (Content-Length, or the
//   route's limit when chunked), are read at once;
// - when that is full, the oldest reader is cut (408) if it has been reading for `evictAfterMs`,
//   which an honest sender never needs, to make room; otherwise the newcomer gets 503 server busy;
// - a body not complete `deadlineMs` after it was admitted is cut (408), checked by one shared
//   timer, not one per request.
// Any signed route reads its body through this (http/body.ts `readBody(req, limit, gate)`).

export type CutReason = 'deadline' | 'evicted';
export type RefusedReason = CutReason | 'full';

export type BodyGateOptions = {
  maxReaders: number;
  maxBytes: number;
  deadlineMs: number;
  evictAfterMs: number;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Counts every refusal and cut (metrics). */
  onRefused?: (reason: RefusedReason) => void;
};

export type Ticket = { release(): void };

export type BodyGate = {
  /** A place for a body still arriving, or null when there is none (503). `cut` ends the read (408). */
  admit(reserveBytes: number, cut: (reason: CutReason) => void): Ticket | null;
  readonly readers: number;
  readonly reservedBytes: number;
  /** Stops the sweep timer (shutdown). */
  stop(): void;
};

export const BODY_GATE_DEFAULTS = {
  maxReaders: 256,
  maxBytes: 32 * 1024 * 1024,
  deadlineMs: 5_000,
  evictAfterMs: 1_000,
} as const;

type Reader = { reserved: number; admittedAt: number; cut: (reason: CutReason) => void };

export function createBodyGate(options: BodyGateOptions): BodyGate {
  // Insertion order is admission order: the first reader is always the oldest.
  const readers = new Set<Reader>();
  let reserved = 0;
  let timer: NodeJS.Timeout | undefined;

  const remove = (reader: Reader): boolean => {
    if (!readers.delete(reader)) return false;
    reserved -= reader.reserved;
    return true;
  };
  const cut = (reader: Reader, reason: CutReason): void => {
    if (!remove(reader)) return;
    options.onRefused?.(reason);
    reader.cut(reason);
  };
  const sweep = (): void => {
    const now = options.now();
    for (const reader of readers) {
      if (now - reader.admittedAt < options.deadlineMs) break; // the rest are younger
      cut(reader, 'deadline');
    }
    if (readers.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const fits = (bytes: number): boolean => readers.size < options.maxReaders && reserved + bytes <= options.maxBytes;

  return {
    admit(reserveBytes, onCut) {
      // A body larger than the whole budget can still be read when nothing else is.
      const bytes = Math.min(reserveBytes, options.maxBytes);
      const now = options.now();
      while (!fits(bytes)) {
        const oldest = readers.values().next().value;
        if (oldest === undefined || now - oldest.admittedAt < options.evictAfterMs) {
          options.onRefused?.('full');
          return null;
        }
        cut(oldest, 'evicted');
      }
      const reader: Reader = { reserved: bytes, admittedAt: now, cut: onCut };
      readers.add(reader);
      reserved += bytes;
      if (timer === undefined) {
        timer = setInterval(sweep, Math.max(50, Math.min(250, Math.floor(options.deadlineMs / 4))));
        timer.unref();
      }
      return { release: () => void remove(reader) };
    },
    get readers() {
      return readers.size;
    },
    get reservedBytes() {
      return reserved;
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

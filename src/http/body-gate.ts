// A bound on bodies still arriving before their signature can be checked. Anyone who can reach the
// port can start a signed route's body without knowing the secret, so these readers are capped in
// number, in bytes and in time, apart from the cap on verified work (webhook/in-flight.ts):
// - a body whose bytes have all arrived with its headers needs no place here (the usual delivery:
//   one small packet), so a signed delivery is never kept out by uploads that stall;
// - at most `maxReaders` bodies, together reserving at most `maxBytes` (Content-Length, or the
//   route's limit when chunked), are read at once;
// - when that is full, the slowest reader is cut (408) to make room, if it has been reading for at
//   least `graceMs` at under `minBytesPerSecond` (a stalled or dripping upload: an honest sender's
//   body arrives far faster); otherwise the newcomer gets 503 server busy;
// - a body not complete `deadlineMs` after it was admitted is cut (408), checked by one shared
//   timer, not one per request.
// Any signed route reads its body through this (http/body.ts `readBody(req, limit, gate)`).

export type CutReason = 'deadline' | 'evicted';
export type RefusedReason = CutReason | 'full';

export type BodyGateOptions = {
  maxReaders: number;
  maxBytes: number;
  deadlineMs: number;
  graceMs: number;
  minBytesPerSecond: number;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Counts every refusal and cut (metrics). */
  onRefused?: (reason: RefusedReason) => void;
};

export type Ticket = {
  /** Bytes of the body received (so the gate can tell a slow upload from a fast one). */
  progress(bytes: number): void;
  release(): void;
};

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
  graceMs: 100,
  minBytesPerSecond: 16 * 1024,
} as const;

type Reader = { reserved: number; admittedAt: number; received: number; cut: (reason: CutReason) => void };

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
  /** The slowest reader that may be cut for room, if any (a scan, only when the gate is full). */
  const slowest = (now: number): Reader | undefined => {
    let found: Reader | undefined;
    let foundRate = Infinity;
    for (const reader of readers) {
      const age = now - reader.admittedAt;
      if (age < options.graceMs) break; // admission order: the rest are younger still
      const rate = (reader.received * 1000) / age;
      if (rate < options.minBytesPerSecond && rate < foundRate) {
        found = reader;
        foundRate = rate;
      }
    }
    return found;
  };

  return {
    admit(reserveBytes, onCut) {
      // A body larger than the whole budget can still be read when nothing else is.
      const bytes = Math.min(reserveBytes, options.maxBytes);
      const now = options.now();
      while (!fits(bytes)) {
        const victim = slowest(now);
        if (victim === undefined) {
          options.onRefused?.('full');
          return null;
        }
        cut(victim, 'evicted');
      }
      const reader: Reader = { reserved: bytes, admittedAt: now, received: 0, cut: onCut };
      readers.add(reader);
      reserved += bytes;
      if (timer === undefined) {
        timer = setInterval(sweep, Math.max(50, Math.min(250, Math.floor(options.deadlineMs / 4))));
        timer.unref();
      }
      return {
        progress: (n) => void (reader.received += n),
        release: () => void remove(reader),
      };
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

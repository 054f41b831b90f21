// A bound on bodies still arriving before their signature can be checked. Anyone who can reach the
// port can start a signed route's body without knowing the secret, so these are capped in number,
// bytes and time, apart from the cap on verified work (webhook/in-flight.ts):
// - a body whose bytes all came with its headers needs no place here (the usual delivery: one
//   small packet), so stalled uploads never keep a signed delivery out;
// - at most `maxActive` bodies are read at once, reserving at most `maxBytes` together (their
//   Content-Length, or the route's limit when chunked). libuv accepts one new connection per
//   event-loop turn, and a turn reads every body it is reading; a few at a time keeps turns short,
//   so a newcomer (a signed delivery, a liveness probe) gets in during a flood, and memory holds
//   a few bodies, not hundreds;
// - the rest wait, up to `maxReaders` in all, with their bytes left in the kernel. When a place
//   frees, the waiter with the most bytes already arrived goes next (a sender that is sending);
// - with waiters, the slowest reader that has been reading for `graceMs` at under
//   `minBytesPerSecond` is cut (408) to make room for one whose bytes are there (a stalled or
//   dripping upload gives way to an honest one); when no place can be had, the newcomer gets 503;
// - a body not complete `deadlineMs` after it arrived is cut (408), waiting or not. One shared
//   timer checks, not one per request.
// Any signed route reads its body through this (http/body.ts `readBody(req, limit, gate)`).

export type CutReason = 'deadline' | 'evicted';
export type RefusedReason = CutReason | 'full';

export type BodyGateOptions = {
  maxActive: number;
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

export type Entrant = {
  /** Bytes to reserve while it is read. */
  reserve: number;
  /** Bytes already arrived and not yet read (what a waiter has to show). */
  buffered(): number;
  /** It may read now. */
  start(): void;
  /** It is cut (the answer is a 408). */
  cut(reason: CutReason): void;
};

export type Ticket = {
  /** Bytes read (so the gate can tell a slow upload from a fast one). */
  progress(bytes: number): void;
  release(): void;
};

export type BodyGate = {
  /** A place for a body still arriving (started now or later), or null when there is none (503). */
  admit(entrant: Entrant): Ticket | null;
  readonly reading: number;
  readonly waiting: number;
  /** Stops the sweep timer (shutdown). */
  stop(): void;
};

export const BODY_GATE_DEFAULTS = {
  maxActive: 16,
  maxReaders: 256,
  maxBytes: 32 * 1024 * 1024,
  deadlineMs: 5_000,
  graceMs: 100,
  minBytesPerSecond: 16 * 1024,
} as const;

/** A waiter must have this much of its body in before a slow reader or a quiet waiter is cut for it. */
const SHOWN_BYTES = 512;
const SWEEP_MS = 100;

type Entry = { entrant: Entrant; reserved: number; arrivedAt: number; startedAt: number; received: number };

export function createBodyGate(options: BodyGateOptions): BodyGate {
  // Insertion order is arrival (waiting) and start (active) order.
  const active = new Set<Entry>();
  const waiting = new Set<Entry>();
  let reserved = 0;
  let timer: NodeJS.Timeout | undefined;

  const remove = (entry: Entry): boolean => {
    if (active.delete(entry)) {
      reserved -= entry.reserved;
      return true;
    }
    return waiting.delete(entry);
  };
  const cut = (entry: Entry, reason: CutReason): void => {
    if (!remove(entry)) return;
    options.onRefused?.(reason);
    entry.entrant.cut(reason);
  };
  const fits = (entry: Entry): boolean => active.size < options.maxActive && reserved + entry.reserved <= options.maxBytes;
  /** The slowest active reader past its grace and under the minimum rate, if any. */
  const slowest = (now: number): Entry | undefined => {
    let found: Entry | undefined;
    let foundRate = Infinity;
    for (const entry of active) {
      const age = now - entry.startedAt;
      if (age < options.graceMs) break; // start order: the rest are younger still
      const rate = (entry.received * 1000) / age;
      if (rate < options.minBytesPerSecond && rate < foundRate) {
        found = entry;
        foundRate = rate;
      }
    }
    return found;
  };
  /** The waiter with the most bytes in (ties: the earliest). */
  const bestWaiter = (): Entry | undefined => {
    let found: Entry | undefined;
    let most = -1;
    for (const entry of waiting) {
      const shown = entry.entrant.buffered();
      if (shown > most) {
        found = entry;
        most = shown;
      }
    }
    return found;
  };
  const start = (entry: Entry, now: number): void => {
    waiting.delete(entry);
    active.add(entry);
    reserved += entry.reserved;
    entry.startedAt = now;
    entry.entrant.start();
  };
  /** Starts waiters while there is room, cutting slow readers for waiters that are sending. */
  const pump = (now: number): void => {
    for (let next = bestWaiter(); next !== undefined; next = bestWaiter()) {
      if (!fits(next)) {
        const victim = next.entrant.buffered() >= SHOWN_BYTES ? slowest(now) : undefined;
        if (victim === undefined) return;
        cut(victim, 'evicted');
        if (!fits(next)) return;
      }
      start(next, now);
    }
  };
  const sweep = (): void => {
    const now = options.now();
    for (const set of [waiting, active]) {
      for (const entry of set) if (now - entry.arrivedAt >= options.deadlineMs) cut(entry, 'deadline');
    }
    pump(now);
    if (active.size === 0 && waiting.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    admit(entrant) {
      const now = options.now();
      if (active.size + waiting.size >= options.maxReaders) {
        // Full: the waiter with the least in gives way, if it is past its grace or the newcomer has
        // clearly more in (a sender that is sending beats one that is not); else a slow reader;
        // else the newcomer is refused.
        let worst: Entry | undefined;
        for (const entry of waiting) {
          if (worst === undefined || entry.entrant.buffered() < worst.entrant.buffered()) worst = entry;
        }
        const yields = worst !== undefined && (now - worst.arrivedAt >= options.graceMs || entrant.buffered() >= worst.entrant.buffered() + SHOWN_BYTES);
        const victim = yields ? worst : slowest(now);
        if (victim === undefined) {
          options.onRefused?.('full');
          return null;
        }
        cut(victim, 'evicted');
      }
      // A body larger than the whole budget can still be read when nothing else is.
      const entry: Entry = { entrant, reserved: Math.min(entrant.reserve, options.maxBytes), arrivedAt: now, startedAt: now, received: 0 };
      waiting.add(entry);
      pump(now);
      if (timer === undefined) {
        timer = setInterval(sweep, SWEEP_MS);
        timer.unref();
      }
      return {
        progress: (n) => void (entry.received += n),
        release: () => {
          if (remove(entry)) pump(options.now());
        },
      };
    },
    get reading() {
      return active.size;
    },
    get waiting() {
      return waiting.size;
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

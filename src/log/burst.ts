// Repeated failures of one kind (the disk is full: every delivery fails the same way) are logged
// once per burst, with the stack, instead of once per request; the rest of the burst is counted
// and summed up in one line when it ends (no failure for `quietMs`, or the first success). Every
// failure is still counted in the metrics, and every request still has its own access-log line.
import type { LogFields, Logger } from './logger.ts';
import { describeError } from './logger.ts';

export type BurstLog = {
  /** A failure of kind `key`: logged with its stack when it starts a burst, else only counted. */
  failed(key: string, msg: string, err: unknown, fields?: LogFields): void;
  /** The operation of kind `key` worked: a burst in progress ends now. */
  succeeded(key: string): void;
  /** Ends every burst (shutdown), so no summary is lost. */
  flush(): void;
};

export type BurstLogOptions = {
  logger: Logger;
  /** Monotonic milliseconds. */
  now: () => number;
  /** A burst ends after this long without a failure of its kind. */
  quietMs?: number;
};

type Burst = { msg: string; err: unknown; started: number; last: number; repeated: number };

export const BURST_QUIET_MS = 10_000;

export function createBurstLog(options: BurstLogOptions): BurstLog {
  const quietMs = options.quietMs ?? BURST_QUIET_MS;
  const bursts = new Map<string, Burst>();
  let timer: NodeJS.Timeout | undefined;

  const end = (key: string, burst: Burst): void => {
    bursts.delete(key);
    if (burst.repeated === 0) return;
    const { type, message } = describeError(burst.err);
    options.logger.line('error', {
      msg: `${burst.msg} (repeated)`,
      repeated: burst.repeated,
      burst_ms: Math.round(burst.last - burst.started),
      err: { type, message },
    });
  };
  // One timer for all bursts, not one per failure.
  const sweep = (): void => {
    timer = undefined;
    const now = options.now();
    for (const [key, burst] of bursts) if (now - burst.last >= quietMs) end(key, burst);
    arm();
  };
  const arm = (): void => {
    if (timer !== undefined || bursts.size === 0) return;
    timer = setTimeout(sweep, quietMs);
    timer.unref();
  };

  return {
    failed(key, msg, err, fields) {
      const now = options.now();
      const burst = bursts.get(key);
      if (burst !== undefined && now - burst.last < quietMs) {
        burst.repeated += 1;
        burst.last = now;
        burst.err = err;
        return;
      }
      if (burst !== undefined) end(key, burst);
      options.logger.error(msg, err, fields);
      bursts.set(key, { msg, err, started: now, last: now, repeated: 0 });
      arm();
    },
    succeeded(key) {
      const burst = bursts.get(key);
      if (burst !== undefined) end(key, burst);
    },
    flush() {
      for (const [key, burst] of bursts) end(key, burst);
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

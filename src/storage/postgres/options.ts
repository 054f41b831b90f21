// The pool's tunables, their defaults and their bounds in one place. PG_POOL_SIZE maps to `size`.
import { DEFAULT_MAX_FRAME_BYTES } from './wire/frames.ts';

export type PoolOptions = Readonly<{
  /** Connections for queries and transactions (the LISTEN connection is one more). */
  size: number;
  /** Callers waiting for a connection beyond which a query fails at once with kind pool_full. */
  maxQueue: number;
  /** Default per-query timeout, counted from the call (waiting in the queue included). */
  queryTimeoutMs: number;
  /** Queries in flight on one connection before the pool stops pipelining onto it. */
  pipelineDepth: number;
  /** After a cancel request, how long a timed-out statement may take to stop. */
  cancelGraceMs: number;
  keepAliveMs: number;
  maxFrameBytes: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** How often the LISTEN connection is pinged, so a silently dead one is noticed. */
  listenerPingMs: number;
}>;

export const DEFAULT_POOL_OPTIONS: PoolOptions = Object.freeze({
  size: 4,
  maxQueue: 1000,
  queryTimeoutMs: 30_000,
  pipelineDepth: 32,
  cancelGraceMs: 5_000,
  keepAliveMs: 10_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  backoffInitialMs: 100,
  backoffMaxMs: 5_000,
  listenerPingMs: 30_000,
});

export function poolOptions(overrides: Partial<PoolOptions> = {}): PoolOptions {
  const options = { ...DEFAULT_POOL_OPTIONS, ...overrides };
  const check = (name: keyof PoolOptions, min: number, max: number): void => {
    const value = options[name];
    if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`pool option ${name} must be an integer from ${min} to ${max}`);
  };
  check('size', 1, 100);
  check('maxQueue', 0, 1_000_000);
  check('queryTimeoutMs', 1, 86_400_000);
  check('pipelineDepth', 1, 10_000);
  check('cancelGraceMs', 1, 600_000);
  check('keepAliveMs', 1000, 3_600_000);
  check('maxFrameBytes', 1024, 1024 * 1024 * 1024);
  check('backoffInitialMs', 1, 60_000);
  check('backoffMaxMs', 1, 600_000);
  check('listenerPingMs', 100, 3_600_000);
  return Object.freeze(options);
}

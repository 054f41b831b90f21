// A seeded pseudo-random generator for reproducible randomised tests. The seed comes from
// RELIABILITY_SEED when set (to replay a failure), else it is fresh; tests print it.
import { randomInt } from 'node:crypto';

export type Random = {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
};

export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['RELIABILITY_SEED'];
  if (raw !== undefined && /^[0-9]+$/.test(raw.trim())) return Number(raw.trim()) >>> 0;
  return randomInt(0, 2 ** 32 - 1);
}

/** mulberry32: small, fast, good enough to drive test cases. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T,
    chance: (p) => next() < p,
  };
}

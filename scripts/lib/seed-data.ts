// Deterministic synthetic messages for the read benchmark: the same seed gives the same rows on
// every machine. Senders are skewed (a few send a lot), timestamps advance with random gaps and a
// random number of fraction digits, texts are pseudo-words with a rare marker word for `q`.
import type { NewMessage } from '../../src/storage/store.ts';
import { instantKey } from '../../src/domain/timestamp.ts';

/** mulberry32: a tiny, fast, seedable PRNG (public domain). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SENDERS = 10_000;
/** Appears in about one message in a thousand: a selective `q`. */
export const RARE_WORD = 'zebracorn';
export const BASE_MS = Date.parse('2024-01-01T00:00:00Z');
/** Messages are on average this far apart (gaps are uniform in 0..2×). */
export const MEAN_GAP_MS = 30_000;

export const sender = (n: number): string => `+1555${String(n).padStart(7, '0')}`;

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'su', 'ra', 'to', 'vi', 'de', 'bo', 'ché', 'zü', 'ñu', 'ωμ', 'да'];

function vocabulary(random: () => number): string[] {
  return Array.from({ length: 2_000 }, () => {
    const n = 2 + Math.floor(random() * 3);
    return Array.from({ length: n }, () => SYLLABLES[Math.floor(random() * SYLLABLES.length)] ?? 'x').join('');
  });
}

/** Yields `count` messages in ts order, starting at `from` (so a seed can be resumed in chunks). */
export function* seedMessages(count: number, seed: number): Generator<NewMessage> {
  const random = prng(seed);
  const words = vocabulary(random);
  let ms = BASE_MS;
  const createdAt = new Date(BASE_MS).toISOString();
  for (let i = 0; i < count; i += 1) {
    ms += Math.floor(random() * 2 * MEAN_GAP_MS);
    const digits = Math.floor(random() * 4); // 0 to 3 fraction digits: ordering must use the instant
    const iso = new Date(ms).toISOString(); // …T…:SS.mmmZ
    const ts = digits === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 20 + digits)}Z`;
    const tsKey = instantKey(ts);
    if (tsKey === null) throw new Error(`generated an invalid ts: ${ts}`);
    // Skewed senders: the square of a uniform number favours low sender numbers.
    const from = sender(Math.floor(random() ** 2 * SENDERS));
    const length = 4 + Math.floor(random() * 9);
    const text = random() < 0.05 ? null
      : Array.from({ length }, () => words[Math.floor(random() * words.length)] ?? '').join(' ') + (random() < 0.001 ? ` ${RARE_WORD}` : '');
    yield { messageId: `seed-${seed}-${i}`, from, to: '+15559990000', ts, tsKey, text, createdAt };
  }
}

// HMAC-SHA256 comparisons shared by the schemes: decoded bytes of equal length, timingSafeEqual
// (which throws on unequal lengths, so the length is checked first).
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

export const SHA256_BYTES = 32;

export function hmacSha256(key: KeyObject, ...parts: readonly Buffer[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

export function sameDigest(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The index of the first key whose HMAC of `parts` equals one of `given`, or -1. */
export function matchingKey(keys: readonly KeyObject[], given: readonly Buffer[], ...parts: readonly Buffer[]): number {
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i];
    if (key === undefined) continue;
    const expected = hmacSha256(key, ...parts);
    if (given.some((g) => sameDigest(g, expected))) return i;
  }
  return -1;
}

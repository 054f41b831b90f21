// Scheme 2, the earlier service's own: `X-Signature` is the hex HMAC-SHA256 of the raw body, keyed
// with a secret's UTF-8 bytes; either hex case; exactly 32 bytes once decoded.
import { matchingKey } from './digest.ts';
import { headerValue, type Verify } from './types.ts';

/** 64 hex digits, either case: the same test as /^[0-9a-fA-F]{64}$/, without a regular expression's overhead on every delivery. */
function isHexSha256(value: string): boolean {
  if (value.length !== 64) return false;
  for (let i = 0; i < 64; i += 1) {
    const c = value.charCodeAt(i) | 0x20; // A-F → a-f; digits keep their code
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

export const verifyXSignature: Verify = (headers, body, keys) => {
  const value = headerValue(headers, 'x-signature');
  if (value === undefined) return { ok: false, scheme: 'x_signature', reason: 'missing' };
  if (value === null || !isHexSha256(value)) return { ok: false, scheme: 'x_signature', reason: 'malformed' };
  if (keys.length === 0) return { ok: false, scheme: 'x_signature', reason: 'mismatch' };
  const at = matchingKey(keys.map((k) => k.utf8), [Buffer.from(value, 'hex')], body);
  const key = keys[at];
  return key === undefined ? { ok: false, scheme: 'x_signature', reason: 'mismatch' } : { ok: true, scheme: 'x_signature', key: key.name };
};

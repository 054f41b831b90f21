// Scheme 2, the earlier service's own: `X-Signature` is the hex HMAC-SHA256 of the raw body, keyed
// with a secret's UTF-8 bytes; either hex case; exactly 32 bytes once decoded.
import { matchingKey } from './digest.ts';
import { headerValue, type Verify } from './types.ts';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

export const verifyXSignature: Verify = (headers, body, keys) => {
  const value = headerValue(headers, 'x-signature');
  if (value === undefined) return { ok: false, scheme: 'x_signature', reason: 'missing' };
  if (value === null || !HEX_SHA256.test(value)) return { ok: false, scheme: 'x_signature', reason: 'malformed' };
  if (keys.length === 0) return { ok: false, scheme: 'x_signature', reason: 'mismatch' };
  const at = matchingKey(keys.map((k) => k.utf8), [Buffer.from(value, 'hex')], body);
  const key = keys[at];
  return key === undefined ? { ok: false, scheme: 'x_signature', reason: 'mismatch' } : { ok: true, scheme: 'x_signature', key: key.name };
};

// Meta's one-time subscription handshake: GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C
// is answered with C as plain text when T is WHATSAPP_VERIFY_TOKEN. The token is checked first, so
// a caller without it learns nothing (not even whether its challenge would pass).
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
import { createHash, timingSafeEqual } from 'node:crypto';
import { failure, text, withLog, type Reply } from '../http/reply.ts';

const CHALLENGE = /^[A-Za-z0-9_-]{1,128}$/;

export type Handshake = { ok: true; challenge: string } | { ok: false; reason: 'verification_failed' | 'invalid_challenge' };

/** When a parameter repeats, the last value counts (as everywhere in this service). */
function last(params: URLSearchParams, name: string): string | undefined {
  return params.getAll(name).at(-1);
}

/** Pure: the query and the SHA-256 of the configured token (null when unset). */
export function checkHandshake(params: URLSearchParams, tokenDigest: Buffer | null): Handshake {
  const mode = last(params, 'hub.mode');
  const token = last(params, 'hub.verify_token');
  if (tokenDigest === null || mode !== 'subscribe' || token === undefined) return { ok: false, reason: 'verification_failed' };
  // Digests of equal length, so the comparison is constant-time whatever the token's length.
  const given = createHash('sha256').update(token, 'utf8').digest();
  if (!timingSafeEqual(given, tokenDigest)) return { ok: false, reason: 'verification_failed' };
  const challenge = last(params, 'hub.challenge');
  if (challenge === undefined || !CHALLENGE.test(challenge)) return { ok: false, reason: 'invalid_challenge' };
  return { ok: true, challenge };
}

export function handleHandshake(tokenDigest: Buffer | null, params: URLSearchParams): Reply {
  const checked = checkHandshake(params, tokenDigest);
  if (checked.ok) return withLog(text(200, checked.challenge, 'text/plain'), { result: 'verified' });
  return withLog(failure(checked.reason), { result: checked.reason });
}

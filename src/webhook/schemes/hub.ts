// Scheme 3, GitHub's form (and Meta's): `X-Hub-Signature-256: sha256=<64 hex>`, the HMAC-SHA256 of
// the raw body keyed with a secret's UTF-8 bytes.
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
import type { KeyObject } from 'node:crypto';
import { matchingKey } from './digest.ts';
import { headerValue, type RequestHeaders, type Verify } from './types.ts';

const HUB_SHA256 = /^sha256=([0-9a-fA-F]{64})$/;
export const HUB_HEADER = 'x-hub-signature-256';

export type HubCheck = { ok: true; index: number } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' };

/** Which of `keys` signed `body` according to the X-Hub-Signature-256 header. */
export function checkHubSignature(headers: RequestHeaders, body: Buffer, keys: readonly KeyObject[]): HubCheck {
  const value = headerValue(headers, HUB_HEADER);
  if (value === undefined) return { ok: false, reason: 'missing' };
  const hex = value === null ? undefined : HUB_SHA256.exec(value)?.[1];
  if (hex === undefined) return { ok: false, reason: 'malformed' };
  const index = matchingKey(keys, [Buffer.from(hex, 'hex')], body);
  return index === -1 ? { ok: false, reason: 'mismatch' } : { ok: true, index };
}

export const verifyHub: Verify = (headers, body, keys) => {
  const checked = checkHubSignature(headers, body, keys.map((k) => k.utf8));
  const key = checked.ok ? keys[checked.index] : undefined;
  if (key !== undefined) return { ok: true, scheme: 'hub', key: key.name };
  return { ok: false, scheme: 'hub', reason: checked.ok ? 'mismatch' : checked.reason };
};

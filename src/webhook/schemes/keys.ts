// Signing keys, parsed once at start-up (config.ts): the current WEBHOOK_SECRET and up to five
// previous ones, so a secret can be rotated without a failed delivery. Each key carries the two
// forms SPEC.md defines: its UTF-8 bytes (X-Signature, X-Hub-Signature-256) and the bytes Standard
// Webhooks signs with (a `whsec_<base64>` secret decoded, any other secret its UTF-8 bytes).
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
import { createSecretKey, type KeyObject } from 'node:crypto';

export const MAX_PREVIOUS_KEYS = 5;
export const KEY_NAMES = ['current', 'previous_1', 'previous_2', 'previous_3', 'previous_4', 'previous_5'] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** KeyObjects: HMAC with one is cheaper than with a Buffer, and inspecting it never shows the bytes. */
export type SigningKey = Readonly<{ name: KeyName; utf8: KeyObject; standard: KeyObject }>;

export const WHSEC_PREFIX = 'whsec_';
export const WHSEC_MIN_BYTES = 24;
export const WHSEC_MAX_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The bytes a Standard Webhooks sender signs with: for `whsec_<base64>` the decoded bytes, which
 * must be 24–64 of them in canonical standard base64 (padding optional); null when they are not.
 * Any other secret is its UTF-8 bytes.
 */
export function standardKeyBytes(secret: string): Buffer | null {
  if (!secret.startsWith(WHSEC_PREFIX)) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(WHSEC_PREFIX.length);
  if (!BASE64.test(encoded)) return null;
  const bytes = Buffer.from(encoded, 'base64');
  const canonical = bytes.toString('base64');
  if (encoded !== canonical && encoded !== canonical.replace(/=+$/, '')) return null;
  return bytes.length >= WHSEC_MIN_BYTES && bytes.length <= WHSEC_MAX_BYTES ? bytes : null;
}

/** A key from a non-empty secret string; null when it is a malformed `whsec_` secret. */
export function signingKey(name: KeyName, secret: string): SigningKey | null {
  const standard = standardKeyBytes(secret);
  if (standard === null) return null;
  return Object.freeze({ name, utf8: createSecretKey(Buffer.from(secret, 'utf8')), standard: createSecretKey(standard) });
}

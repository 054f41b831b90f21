// Scheme 1, Standard Webhooks (what Svix-based platforms send): the signed content is the bytes
// `{webhook-id}.{webhook-timestamp}.{raw body}`; `webhook-signature` is a space-separated list of
// `v1,<base64 HMAC-SHA256>` entries. The same three headers may carry the `svix-` prefix.
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
// The timestamp is checked after the signature, so only genuine deliveries count as stale (a
// forged old timestamp is an invalid signature, and cannot raise the clock-drift alert).
import { matchingKey, SHA256_BYTES } from './digest.ts';
import { headerValue, type RequestHeaders, type Verify } from './types.ts';

export const STANDARD_PREFIXES = ['webhook-', 'svix-'] as const;
const PARTS = ['id', 'timestamp', 'signature'] as const;

/** 1–256 printable ASCII characters, no `.` (it separates the parts of the signed content). */
const DELIVERY_ID = /^[\x20-\x2d\x2f-\x7e]{1,256}$/;
/** Whether a sender's id would be accepted as `webhook-id` (the signing CLI checks its --id with it). */
export const isDeliveryId = (id: string): boolean => DELIVERY_ID.test(id);
/** Unix seconds: 1–12 ASCII digits, no sign, no fraction. */
const TIMESTAMP = /^[0-9]{1,12}$/;
/** Canonical standard base64 of 32 bytes: 43 characters and one `=`. */
const SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;
export const MAX_SIGNATURE_ENTRIES = 10;

/** The prefix whose headers are present (`webhook-` first), or null when neither set is. */
export function standardPrefix(headers: RequestHeaders): string | null {
  for (const [prefix, names] of HEADER_NAMES) {
    for (const name of names) if (headers[name] !== undefined) return prefix;
  }
  return null;
}

/** Each prefix with its three header names, made once (this runs for every delivery, twice). */
const HEADER_NAMES: readonly (readonly [string, readonly string[]])[] = STANDARD_PREFIXES.map((prefix) => [prefix, PARTS.map((part) => `${prefix}${part}`)]);

/** The decoded v1 signatures among the first MAX_SIGNATURE_ENTRIES entries; others are skipped. */
export function v1Signatures(header: string): Buffer[] {
  const found: Buffer[] = [];
  let looked = 0;
  let at = 0;
  while (at <= header.length && looked < MAX_SIGNATURE_ENTRIES) {
    let end = header.indexOf(' ', at);
    if (end === -1) end = header.length;
    const entry = header.slice(at, end);
    at = end + 1;
    if (entry === '') continue;
    looked += 1;
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const encoded = entry.slice(comma + 1);
    if (!SIGNATURE.test(encoded)) continue;
    const bytes = Buffer.from(encoded, 'base64');
    // Only the canonical encoding: two strings must not both pass for one digest.
    if (bytes.length === SHA256_BYTES && bytes.toString('base64') === encoded) found.push(bytes);
  }
  return found;
}

export const verifyStandard: Verify = (headers, body, keys, context) => {
  const prefix = standardPrefix(headers);
  if (prefix === null) return { ok: false, scheme: 'standard', reason: 'missing' };
  const id = headerValue(headers, `${prefix}id`);
  const timestamp = headerValue(headers, `${prefix}timestamp`);
  const signature = headerValue(headers, `${prefix}signature`);
  if (id === undefined || timestamp === undefined || signature === undefined) return { ok: false, scheme: 'standard', reason: 'missing' };
  if (id === null || !DELIVERY_ID.test(id)) return { ok: false, scheme: 'standard', reason: 'malformed' };
  const deliveryId = id;
  if (timestamp === null || signature === null || !TIMESTAMP.test(timestamp)) return { ok: false, scheme: 'standard', reason: 'malformed', deliveryId };
  const given = v1Signatures(signature);
  if (given.length === 0) return { ok: false, scheme: 'standard', reason: 'malformed', deliveryId };

  const signedPrefix = Buffer.from(`${id}.${timestamp}.`, 'latin1');
  const key = keys[matchingKey(keys.map((k) => k.standard), given, signedPrefix, body)];
  if (key === undefined) return { ok: false, scheme: 'standard', reason: 'mismatch', deliveryId };
  const skew = Math.abs(Math.floor(context.now.getTime() / 1000) - Number(timestamp));
  if (!(skew <= context.toleranceSeconds)) return { ok: false, scheme: 'standard', reason: 'stale_timestamp', deliveryId };
  return { ok: true, scheme: 'standard', key: key.name, deliveryId };
};

// X-Signature is the hex HMAC-SHA256 of the raw body bytes (never of re-serialised JSON, which
// would differ in spacing and key order). The header is decoded and length-checked before
// timingSafeEqual, which throws on unequal lengths.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

export function sign(secret: KeyObject | Buffer | string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The header has the form of a signature (64 hex digits); anything else fails whatever the body. */
export function isSignatureHeader(header: string | string[] | undefined): header is string {
  return typeof header === 'string' && HEX_SHA256.test(header);
}

export function verifySignature(secret: KeyObject, body: Buffer, header: string | string[] | undefined): boolean {
  if (!isSignatureHeader(header)) return false;
  const given = Buffer.from(header, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// Picks the scheme by which header is present, in SPEC.md's order (Standard Webhooks, X-Signature,
// X-Hub-Signature-256), and verifies with it alone: the first present decides, and its failure is
// final (no falling back to the next scheme, which would let the weakest check decide).
import { HUB_HEADER, verifyHub } from './hub.ts';
import type { SigningKey } from './keys.ts';
import { standardPrefix, verifyStandard } from './standard.ts';
import type { RequestHeaders, SchemeName, Verification, VerifyContext, Verify } from './types.ts';
import { verifyXSignature } from './x-signature.ts';

const VERIFIERS: Readonly<Record<SchemeName, Verify>> = { standard: verifyStandard, x_signature: verifyXSignature, hub: verifyHub };

export function detectScheme(headers: RequestHeaders): SchemeName | null {
  if (standardPrefix(headers) !== null) return 'standard';
  if (headers['x-signature'] !== undefined) return 'x_signature';
  if (headers[HUB_HEADER] !== undefined) return 'hub';
  return null;
}

/** `scheme`: detectScheme(headers), when the caller has it already. */
export function verifyDelivery(headers: RequestHeaders, body: Buffer, keys: readonly SigningKey[], context: VerifyContext, scheme = detectScheme(headers)): Verification {
  if (scheme === null) return { ok: false, scheme: null, reason: 'missing' };
  return VERIFIERS[scheme](headers, body, keys, context);
}

const NO_BODY = Buffer.alloc(0);
const NO_CLOCK: VerifyContext = { now: new Date(0), toleranceSeconds: 0 };

/**
 * The rejection when the headers alone already fail (the scheme's headers missing or malformed),
 * so that no body could verify and the body need not be read; null when a body might verify.
 * Every verifier checks its headers before any HMAC, and with no keys computes none: this is cheap.
 */
export function headersCannotVerify(headers: RequestHeaders, scheme = detectScheme(headers)): Verification | null {
  const verdict = verifyDelivery(headers, NO_BODY, [], NO_CLOCK, scheme);
  return !verdict.ok && (verdict.reason === 'missing' || verdict.reason === 'malformed') ? verdict : null;
}

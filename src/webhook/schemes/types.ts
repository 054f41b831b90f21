// What every signature scheme shares: one verify signature over (headers, raw body, keys, clock),
// answering a value, never throwing, whatever the header values are.
import type { KeyName, SigningKey } from './keys.ts';

export const SCHEME_NAMES = ['standard', 'x_signature', 'hub'] as const;
export type SchemeName = (typeof SCHEME_NAMES)[number];

/** As node:http gives them: lower-case names; a value is a string (repeats joined with ", "). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type VerifyContext = Readonly<{ now: Date; toleranceSeconds: number }>;

/**
 * missing: the scheme's headers are absent or incomplete; malformed: a header breaks its grammar
 * or carries no usable signature; mismatch: no signature matches any key; stale_timestamp: a
 * Standard Webhooks delivery signed correctly but outside the replay window.
 */
export type RejectReason = 'missing' | 'malformed' | 'mismatch' | 'stale_timestamp';

export type Verified = Readonly<{ ok: true; scheme: SchemeName; key: KeyName; deliveryId?: string }>;
export type Rejected = Readonly<{ ok: false; scheme: SchemeName | null; reason: RejectReason; deliveryId?: string }>;
export type Verification = Verified | Rejected;

export type Verify = (headers: RequestHeaders, body: Buffer, keys: readonly SigningKey[], context: VerifyContext) => Verification;

/** One header's value: undefined when absent, null when node:http kept it as a list. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined | null {
  const value = headers[name];
  return typeof value === 'string' || value === undefined ? value : null;
}

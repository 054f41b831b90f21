// The secrets' parsers: one small function per variable, each from the raw value (the
// environment's, or a NAME_FILE's text). Empty means unset. Problems never contain the secret.
import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { MAX_PREVIOUS_KEYS, KEY_NAMES, signingKey, WHSEC_MAX_BYTES, WHSEC_MIN_BYTES, WHSEC_PREFIX, type SigningKey } from '../webhook/schemes/keys.ts';
import type { Parsed } from './values.ts';

const WHSEC_RULE = `a ${WHSEC_PREFIX} secret must be canonical base64 of ${WHSEC_MIN_BYTES} to ${WHSEC_MAX_BYTES} bytes`;

export function parseWebhookSecret(raw: string | undefined): Parsed<SigningKey | null> {
  if (raw === undefined || raw === '') return { ok: true, value: null };
  const key = signingKey('current', raw);
  return key === null ? { ok: false, problem: `WEBHOOK_SECRET: ${WHSEC_RULE}` } : { ok: true, value: key };
}

export function parseWebhookSecretPrevious(raw: string | undefined): Parsed<SigningKey[]> {
  const secrets = (raw ?? '').split(/\s+/).filter((s) => s !== '');
  if (secrets.length > MAX_PREVIOUS_KEYS) {
    return { ok: false, problem: `WEBHOOK_SECRET_PREVIOUS: at most ${MAX_PREVIOUS_KEYS} secrets (whitespace-separated), got ${secrets.length}` };
  }
  const keys: SigningKey[] = [];
  const bad: number[] = [];
  for (const [i, secret] of secrets.entries()) {
    const key = signingKey(KEY_NAMES[i + 1] ?? 'previous_5', secret);
    if (key === null) bad.push(i + 1);
    else keys.push(key);
  }
  // Every bad one named (by position, never by value) in the variable's one line.
  if (bad.length > 0) return { ok: false, problem: `WEBHOOK_SECRET_PREVIOUS: ${bad.length === 1 ? 'secret' : 'secrets'} ${bad.join(', ')}: ${WHSEC_RULE}` };
  return { ok: true, value: keys };
}

export function parseWhatsAppAppSecret(raw: string | undefined): KeyObject | null {
  return raw === undefined || raw === '' ? null : createSecretKey(Buffer.from(raw, 'utf8'));
}

export function parseWhatsAppVerifyToken(raw: string | undefined): Buffer | null {
  return raw === undefined || raw === '' ? null : createHash('sha256').update(raw, 'utf8').digest();
}


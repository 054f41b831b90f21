// Builds webhook bodies the way a sender would: plain JSON bytes, signed exactly as sent.
import { sign } from '../../src/webhook/signature.ts';

export type OutgoingMessage = {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text?: string | null;
};

export type SignedBody = { body: string; signature: string };

export function signedBody(secret: string, message: OutgoingMessage): SignedBody {
  const body = JSON.stringify(message);
  return { body, signature: sign(secret, body) };
}

/** `ts` in the grammar the service accepts: UTC, uppercase T and Z, milliseconds. */
export function isoNow(): string {
  return new Date().toISOString();
}

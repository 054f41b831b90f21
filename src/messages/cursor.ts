// Keyset cursors for GET /messages: opaque, URL-safe (base64url) and tamper-safe. A cursor holds the
// position after the last row of a page (its ts instant key and message_id) and an HMAC-SHA256 tag
// over that position and the page's filters, keyed with the store's cursor key (kept in the
// database, so a cursor stays valid across restarts and replicas). An altered or forged cursor, or
// one used with other filters, fails the tag check and is refused; it never reaches a query.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { instantKey } from '../domain/timestamp.ts';
import type { ListOrder, MatchFilter, Position } from '../storage/store.ts';

/** The filters a cursor is bound to: the match filters and the order it walks. */
export type CursorScope = MatchFilter & Readonly<{ order?: ListOrder }>;

export type CursorCodec = {
  encode(position: Position, filter: CursorScope): string;
  /** The position, or null when the text is not a cursor this service made for these filters. */
  decode(text: string, filter: CursorScope): Position | null;
};

const VERSION = 1;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The filters as the tag covers them: instants as keys, so equal instants written differently agree.
 * The order is added only when it is 'desc', so the cursors of the ascending list stay the same.
 */
const filterBytes = (f: CursorScope): Buffer =>
  Buffer.from(JSON.stringify(f.order === 'desc' ? [f.from, f.since, f.until, f.q, 'desc'] : [f.from, f.since, f.until, f.q]), 'utf8');

export function createCursorCodec(key: Uint8Array): CursorCodec {
  if (key.length < 32) throw new Error('the cursor key must be at least 32 bytes');
  const secret: KeyObject = createSecretKey(Buffer.from(key));
  const tag = (body: Buffer, filter: CursorScope): Buffer =>
    createHmac('sha256', secret).update(body).update(Buffer.of(0)).update(filterBytes(filter)).digest().subarray(0, TAG_BYTES);

  return {
    encode(position, filter) {
      const tsKey = Buffer.from(position.tsKey, 'latin1');
      const body = Buffer.concat([Buffer.of(VERSION, tsKey.length), tsKey, Buffer.from(position.messageId, 'utf8')]);
      return Buffer.concat([body, tag(body, filter)]).toString('base64url');
    },
    decode(text, filter) {
      if (!BASE64URL.test(text)) return null;
      const bytes = Buffer.from(text, 'base64url');
      // Node's decoder skips stray trailing characters; only the one spelling this service writes counts.
      if (bytes.length < 2 + TAG_BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== text) return null;
      const body = bytes.subarray(0, bytes.length - TAG_BYTES);
      if (!timingSafeEqual(bytes.subarray(bytes.length - TAG_BYTES), tag(body, filter))) return null;
      // Past the tag the bytes are ours; they are still checked, so a leaked key cannot make a 500.
      const keyLength = body[1] ?? 0;
      if (2 + keyLength > body.length) return null;
      const tsKey = body.toString('latin1', 2, 2 + keyLength);
      let messageId: string;
      try {
        messageId = utf8.decode(body.subarray(2 + keyLength));
      } catch {
        return null;
      }
      // Rows written by the earlier service with an unreadable ts have the empty key (legacy-ts.ts).
      if (tsKey !== '' && instantKey(tsKey) !== tsKey) return null;
      return { tsKey, messageId };
    },
  };
}

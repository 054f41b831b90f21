// The read token (READ_TOKEN): when set, the read routes need `Authorization: Bearer <token>`
// (RFC 6750 §2.1). The comparison is of SHA-256 digests with timingSafeEqual, so it takes the same
// time whatever the length or content of the presented token. Which routes need it is a column of
// the route table (app.ts), not something each handler checks.
import { createHash, timingSafeEqual } from 'node:crypto';

/** What the route table says about who may call a route. */
export type Access = 'open' | 'read_token';

export type ReadToken = Readonly<{ digest: Buffer }>;

/** RFC 6750 b64token: what a client can send after "Bearer ". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^Bearer +([^ ]+) *$/i;

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export type ParsedToken = { ok: true; value: ReadToken | null } | { ok: false; problem: string };

/** READ_TOKEN's value (undefined or empty: reads are open). The token itself is never echoed. */
export function parseReadToken(raw: string | undefined): ParsedToken {
  if (raw === undefined || raw === '') return { ok: true, value: null };
  if (!B64TOKEN.test(raw) || raw.length > 4096) {
    return { ok: false, problem: 'READ_TOKEN: must be 1 to 4096 characters of A-Z a-z 0-9 - . _ ~ + / (optionally ending in =), as a bearer token is sent' };
  }
  return { ok: true, value: Object.freeze({ digest: digestOf(raw) }) };
}

/** True when the route is open, no token is configured, or the request carries the right one. */
export function allowed(access: Access, token: ReadToken | null, authorization: string | undefined): boolean {
  if (access === 'open' || token === null) return true;
  const presented = authorization === undefined ? null : BEARER.exec(authorization.trim())?.[1];
  if (presented === undefined || presented === null) return false;
  return timingSafeEqual(digestOf(presented), token.digest);
}

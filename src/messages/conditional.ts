// Conditional GET (RFC 9110 §8.8.1, §13.1.2): a weak ETag made from the response body, and a 304
// without a body when the client's If-None-Match already holds it. The body is rendered anyway
// (it is what the tag is made from); what a match saves is sending it.
import { createHash } from 'node:crypto';
import { notModified, text, type Headers, type Reply } from '../http/reply.ts';

const JSON_TYPE = 'application/json';

export function weakEtag(body: string): string {
  return `W/"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 27)}"`;
}

/** If-None-Match: "*" or a list of entity tags, compared weakly (the opaque part only). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  for (const m of header.matchAll(/(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")/g)) {
    if (m[1] === opaque) return true;
  }
  return false;
}

/** A 200 JSON reply with its weak ETag, or a 304 when the client's copy is current. */
export function conditionalJson(ifNoneMatch: string | undefined, body: unknown, headers: Headers = {}): Reply {
  const rendered = JSON.stringify(body);
  const etag = weakEtag(rendered);
  if (noneMatch(ifNoneMatch, etag)) return notModified({ ...headers, ETag: etag });
  return text(200, rendered, JSON_TYPE, { ...headers, ETag: etag });
}

// GET /inbox and its assets. They are open (the data the page reads needs the token, the page does
// not), carry the SPEC's security headers on every answer, 304 included, and are conditional on
// their strong ETag. The query string is read only for the asset version `v`; nothing in a request
// ever names a file (the route table lists the three paths), so no path can reach the disk.
import type { IncomingMessage } from 'node:http';
import { noneMatch } from '../messages/conditional.ts';
import { notModified, text, type Headers, type Reply } from '../http/reply.ts';
import type { Asset } from './assets.ts';

/** SPEC "The inbox page": no inline script or style, no sniffing, no referrer, no framing. */
export const SECURITY_HEADERS: Headers = Object.freeze({
  'Content-Security-Policy': "default-src 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
});

export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Cached, but revalidated (a 304) before each use. */
export const REVALIDATE = 'no-cache';

/** Serves an asset; `versioned` assets are immutable when the request names their current version. */
export function serveAsset(asset: Asset, req: IncomingMessage, query: URLSearchParams, versioned: boolean): Reply {
  const current = versioned && query.getAll('v').length === 1 && query.get('v') === asset.version;
  const headers: Headers = { ...SECURITY_HEADERS, 'Cache-Control': current ? IMMUTABLE : REVALIDATE, ETag: asset.etag };
  const ifNoneMatch = req.headers['if-none-match'];
  if (noneMatch(typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, asset.etag)) return notModified(headers);
  return text(200, asset.body, asset.contentType, headers);
}

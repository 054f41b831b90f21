// The inbox page and its assets (style, script, icon), read once at start-up and kept in memory
// (about 45 KB).
// Each gets a strong ETag from its content. The page links its assets with `?v=<that hash>`: such a
// versioned URL never changes content, so it is cached for a year (`immutable`) and a reload of the
// page fetches nothing but the page itself (and that is a 304 when unchanged). A stale or missing
// `v` (a page cached from before an upgrade) gets the current file with `no-cache` instead.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INBOX_DIR, INBOX_FILES } from './files.ts';

export type Asset = Readonly<{
  /** The route path it is served at. */
  path: string;
  body: string;
  contentType: string;
  /** The first 16 hex digits of its SHA-256: the `v` of its versioned URL and its strong ETag. */
  version: string;
  etag: string;
}>;

export type InboxAssets = Readonly<{ page: Asset; css: Asset; js: Asset; icon: Asset }>;

export const INBOX_PATH = '/inbox';
export const CSS_PATH = '/inbox/inbox.css';
export const JS_PATH = '/inbox/inbox.js';
export const ICON_PATH = '/inbox/icon.svg';

function asset(path: string, body: string, contentType: string): Asset {
  const version = createHash('sha256').update(body, 'utf8').digest('hex').slice(0, 16);
  return { path, body, contentType, version, etag: `"${version}"` };
}

/** The page's markup with each asset reference (written relative, e.g. `inbox/inbox.css`) versioned. */
function versioned(html: string, assets: readonly Asset[]): string {
  let out = html;
  for (const a of assets) {
    const reference = `"${a.path.slice(1)}"`;
    const at = out.indexOf(reference);
    // A page that does not link an asset exactly once is a bug of this repository, not a request's.
    if (at === -1 || out.indexOf(reference, at + 1) !== -1) throw new Error(`inbox.html must reference ${reference} exactly once`);
    out = out.replace(reference, `"${a.path.slice(1)}?v=${a.version}"`);
  }
  return out;
}

/** Reads the files from `dir` (by default where this module is); throws when one is missing. */
export function loadInbox(dir: string = INBOX_DIR): InboxAssets {
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  const css = asset(CSS_PATH, read(INBOX_FILES.css), 'text/css; charset=utf-8');
  const js = asset(JS_PATH, read(INBOX_FILES.js), 'text/javascript; charset=utf-8');
  const icon = asset(ICON_PATH, read(INBOX_FILES.icon), 'image/svg+xml');
  const page = asset(INBOX_PATH, versioned(read(INBOX_FILES.page), [css, js, icon]), 'text/html; charset=utf-8');
  return Object.freeze({ page, css, js, icon });
}

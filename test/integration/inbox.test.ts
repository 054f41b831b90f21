// GET /inbox and its assets over a real socket: the SPEC's security headers on every answer, no
// inline script or style, caching (versioned immutable URLs, strong ETags, 304s), HEAD, access
// (open even with READ_TOKEN), and hostile requests: paths under the asset prefix, traversal,
// odd query strings, wrong methods, and many connections at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadInbox } from '../../src/inbox/assets.ts';
import { INBOX_DIR, INBOX_FILES } from '../../src/inbox/files.ts';
import { createPool } from '../helpers/http-client.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { bodyOf, freshService } from '../helpers/service.ts';

const SECURITY = {
  'content-security-policy': "default-src 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function assertSecure(res: Response, what: string): void {
  for (const [name, value] of Object.entries(SECURITY)) assert.equal(res.headers.get(name), value, `${what}: ${name}`);
}

/** The page's asset URLs, as it links them. */
function assetLinks(html: string): Record<string, string> {
  const links: Record<string, string> = {};
  for (const m of html.matchAll(/(?:href|src)="(inbox\/[^"]+)"/g)) {
    const url = new URL(m[1] ?? '', 'http://x/');
    links[url.pathname] = `${url.pathname}${url.search}`;
  }
  return links;
}

test('GET /inbox: the page, with the security headers, no inline script or style, and versioned asset links', async (t) => {
  const svc = await freshService(t);
  const res = await svc.get('/inbox');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assertSecure(res, '/inbox');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{16}"$/, 'a strong ETag');
  assert.ok(res.headers.get('x-request-id'));
  const html = await res.text();
  assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(html));
  assert.match(html, /^<!doctype html>/);

  // The CSP allows no inline code: every script has a src, there is no <style>, no style or on* attribute.
  assert.deepEqual([...html.matchAll(/<script\b([^>]*)>/g)].map((m) => /\bsrc="[^"]+"/.test(m[1] ?? '') && /type="module"/.test(m[1] ?? '')), [true]);
  assert.doesNotMatch(html, /<style\b/i);
  assert.doesNotMatch(html, /\sstyle\s*=/i);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
  assert.doesNotMatch(html, /javascript:/i);
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin (no CDN)');

  const links = assetLinks(html);
  assert.deepEqual(Object.keys(links).sort(), ['/inbox/icon.svg', '/inbox/inbox.css', '/inbox/inbox.js']);
  for (const link of Object.values(links)) {
    const asset = await svc.get(link);
    assert.equal(asset.status, 200, link);
    assertSecure(asset, link);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', `${link} never changes`);
    const version = new URL(link, svc.url).searchParams.get('v');
    assert.equal(asset.headers.get('etag'), `"${version}"`, 'the version is the content hash');
    await asset.body?.cancel();
  }
  // A query string on the page is the page's own business (its filters): the same page.
  const filtered = await svc.get('/inbox?q=%3Cscript%3E&from=%2B1&v=1');
  assert.equal(filtered.status, 200);
  assert.equal(await filtered.text(), html);
});

test('the assets: types, the current file whatever the version asked for, revalidated unless the version is current', async (t) => {
  const svc = await freshService(t);
  const expected: Record<string, [string, string]> = {
    '/inbox/inbox.css': ['text/css; charset=utf-8', readFileSync(join(INBOX_DIR, INBOX_FILES.css), 'utf8')],
    '/inbox/inbox.js': ['text/javascript; charset=utf-8', readFileSync(join(INBOX_DIR, INBOX_FILES.js), 'utf8')],
    '/inbox/icon.svg': ['image/svg+xml', readFileSync(join(INBOX_DIR, INBOX_FILES.icon), 'utf8')],
  };
  for (const [path, [type, body]] of Object.entries(expected)) {
    for (const query of ['', '?v=0000000000000000', '?v=../../package.json', '?v=', '?v=%ZZ', `?x=${'a'.repeat(4000)}`]) {
      const res = await svc.get(`${path}${query}`);
      assert.equal(res.status, 200, `${path}${query}`);
      assert.equal(res.headers.get('content-type'), type);
      assertSecure(res, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache', `${path}${query}: not the current version, so not immutable`);
      assert.equal(await res.text(), body);
    }
    const current = (await svc.get(path)).headers.get('etag')?.slice(1, -1) ?? '';
    const twice = await svc.get(`${path}?v=${current}&v=${current}`);
    assert.equal(twice.headers.get('cache-control'), 'no-cache', 'a repeated v is not a versioned URL');
    await twice.body?.cancel();
  }
});

test('conditional GET and HEAD: If-None-Match gives a 304 with the headers and no body; HEAD the headers of GET', async (t) => {
  const svc = await freshService(t);
  for (const path of ['/inbox', '/inbox/inbox.css', '/inbox/inbox.js', '/inbox/icon.svg']) {
    const first = await svc.get(path);
    const etag = first.headers.get('etag') ?? '';
    const length = first.headers.get('content-length');
    await first.body?.cancel();
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const again = await rawExchange(svc.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${header}\r\nConnection: close\r\n\r\n`, { untilClose: true });
      assert.equal(again.status, 304, `${path} If-None-Match: ${header}`);
      assert.equal(again.body, '', 'no body');
      assert.equal(again.headers['etag'], etag);
      for (const [name, value] of Object.entries(SECURITY)) assert.equal(again.headers[name], value, `304 ${name}`);
    }
    const changed = await svc.get(path, { headers: { 'If-None-Match': '"0000000000000000"' } });
    assert.equal(changed.status, 200);
    await changed.body?.cancel();

    const head = await rawExchange(svc.port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { untilClose: true });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], length);
    assert.equal(head.headers['etag'], etag);
    for (const [name, value] of Object.entries(SECURITY)) assert.equal(head.headers[name], value, `HEAD ${name}`);
  }
});

test('with READ_TOKEN the page and its assets stay open; the data behind them does not', async (t) => {
  const svc = await freshService(t, { env: { READ_TOKEN: 'inbox-token' } });
  for (const path of ['/inbox', '/inbox/inbox.css', '/inbox/inbox.js', '/inbox/icon.svg']) {
    const res = await svc.get(path);
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
  for (const path of ['/messages', '/stats', '/messages/export', '/messages/stream']) {
    const res = await svc.get(path);
    assert.equal(res.status, 401, path);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    await res.body?.cancel();
  }
});

test('wrong methods are 405 with Allow; other paths under /inbox, traversal and odd spellings are 404 JSON, never a file', async (t) => {
  const svc = await freshService(t);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    for (const path of ['/inbox', '/inbox/inbox.js']) {
      const res = await svc.get(path, { method, body: method === 'OPTIONS' ? null : 'x' });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      assert.deepEqual(await bodyOf(res), { detail: 'Method Not Allowed' });
    }
  }
  const secretish = readFileSync(join(INBOX_DIR, 'assets.ts'), 'utf8').slice(0, 40);
  const targets = [
    '/inbox/', '/inbox//', '/inbox/index.html', '/inbox/inbox.html', '/inbox/assets.ts', '/inbox/files.ts', '/inbox/handler.ts', '/inbox/tsconfig.json',
    '/inbox/inbox.js/', '/inbox/inbox.JS', '/INBOX', '/inbox.js', '/inbox/inbox.js.map', '/inbox/inbox.css;x', '/inbox//inbox.js', '//inbox',
    '/inbox/../package.json', '/inbox/../../etc/passwd', '/inbox/%2e%2e/%2e%2e/package.json', '/inbox/..%2f..%2fpackage.json', '/inbox%2finbox.js',
    '/inbox/inbox.js%00', '/inbox/%00', '/inbox/inbox%2ejs', '/inbox/icon.svg/..', '/inbox/\u00e9', `/inbox/${'a'.repeat(6000)}`, '/inbox/inbox.js#x',
    '/inbox/./inbox.js', '/./inbox', '/inbox/*', 'inbox', '*', 'http://evil.example/inbox/../package.json',
  ];
  for (const target of targets) {
    const res = await rawExchange(svc.port, `GET ${encodeURI(target).replace(/%25/g, '%')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { untilClose: true });
    assert.ok(res.status === 404 || res.status === 400, `${target}: ${res.status}`);
    assert.ok(!res.body.includes(secretish) && !res.body.includes('"name": "webhook-api"') && !res.body.includes('root:'), `${target} reveals nothing`);
    if (res.status === 404) assert.equal(res.body, '{"detail":"Not Found"}', target);
  }
  assert.ok(!svc.accessLogs().some((l) => Number(l['status']) >= 500));
  // Every odd path is counted under "unmatched": no new series per path.
  const metrics = await (await svc.get('/metrics')).text();
  const inboxSeries = [...metrics.matchAll(/^http_requests_total\{path="([^"]*)"/gm)].map((m) => m[1]).filter((p) => p?.includes('inbox'));
  assert.deepEqual([...new Set(inboxSeries)].sort(), ['/inbox', '/inbox/inbox.js']);
});

test('many connections at once: 2,000 requests over 64 keep-alive connections, every one answered whole and alike', { timeout: 60_000 }, async (t) => {
  const svc = await freshService(t);
  const page = await (await svc.get('/inbox')).text();
  const links = Object.values(assetLinks(page));
  const bodies = new Map<string, string>([['/inbox', page]]);
  for (const link of links) bodies.set(link, await (await svc.get(link)).text());
  const paths = [...bodies.keys()];
  const pool = createPool(svc.port, 64);
  t.after(() => pool.close());
  const rssBefore = process.memoryUsage().rss;
  let next = 0;
  const failures: string[] = [];
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < 2_000) {
      const path = paths[next++ % paths.length] ?? '/inbox';
      const out = await pool.send(next % 7 === 0 ? 'HEAD' : 'GET', path, undefined, next % 5 === 0 ? { 'If-None-Match': '"0"' } : {});
      if (out.status !== 200) failures.push(`${path}: ${out.status}`);
      else if (out.body !== '' && out.body !== bodies.get(path)) failures.push(`${path}: a different body`);
    }
  }));
  assert.deepEqual(failures, []);
  // The files are served from memory: no growth per request beyond the sockets' buffers.
  const grown = process.memoryUsage().rss - rssBefore;
  t.diagnostic(`RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB over 2,000 requests (test process and service together)`);
  assert.ok(grown < 128 * 2 ** 20, `RSS grew ${grown} bytes`);
  const served = svc.accessLogs().filter((l) => typeof l['path'] === 'string' && String(l['path']).startsWith('/inbox'));
  assert.ok(served.length >= 2_000);
  assert.ok(served.every((l) => l['level'] === 'info'));
});

test('page weight: HTML, CSS and script in bytes, raw and gzip-equivalent (reported, and kept small)', async (t) => {
  const svc = await freshService(t);
  const page = await (await svc.get('/inbox')).text();
  const sizes: Record<string, { raw: number; gzip: number }> = {};
  const sized = (name: string, body: string): void => void (sizes[name] = { raw: Buffer.byteLength(body), gzip: gzipSync(body, { level: 9 }).length });
  sized('html', page);
  for (const link of Object.values(assetLinks(page))) sized(new URL(link, svc.url).pathname.split('/').pop() ?? link, await (await svc.get(link)).text());
  const total = { raw: 0, gzip: 0 };
  for (const name of ['html', 'inbox.css', 'inbox.js']) {
    total.raw += sizes[name]?.raw ?? 0;
    total.gzip += sizes[name]?.gzip ?? 0;
  }
  t.diagnostic(`page weight: ${Object.entries(sizes).map(([n, s]) => `${n} ${s.raw} B (gzip ${s.gzip} B)`).join(', ')}; HTML+CSS+JS ${total.raw} B raw, ${total.gzip} B gzip`);
  assert.ok(total.raw < 100_000 && total.gzip < 25_000, JSON.stringify(total));
});

test('a build without the page\'s files does not start; a page that does not link its assets is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-files-'));
  try {
    assert.throws(() => loadInbox(dir), /ENOENT/);
    for (const name of Object.values(INBOX_FILES)) writeFileSync(join(dir, name), readFileSync(join(INBOX_DIR, name)));
    assert.equal(loadInbox(dir).page.body, loadInbox().page.body);
    writeFileSync(join(dir, INBOX_FILES.page), '<!doctype html><link rel="stylesheet" href="inbox/inbox.css">');
    assert.throws(() => loadInbox(dir), /must reference "inbox\/inbox\.js" exactly once/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Keyset cursors on GET /messages over a real socket: the Link header, walking the whole list with
// concurrent inserts, `until`, tamper-safety (a forged cursor is a 422, never a 500 or another
// query), and cursors that stay valid across a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createPool } from '../helpers/http-client.ts';
import { bodyOf, freshService, message, seed, signBody, startTestService, tempDir, type TestService } from '../helpers/service.ts';
import { newTestDatabase } from '../helpers/test-database.ts';

type Item = { message_id: string; from: string; to: string; ts: string; text: string | null };
type PageOf = { status: number; body: { data: Item[]; total: number; limit: number; offset: number }; link: string | null };

async function page(svc: TestService, pathAndQuery: string, init?: RequestInit): Promise<PageOf> {
  const res = await svc.get(pathAndQuery, init);
  assert.equal(res.status, 200, pathAndQuery);
  return { status: res.status, body: await bodyOf(res), link: res.headers.get('link') };
}

/** The target of a `Link: <…>; rel="next"` header, or null. */
function nextOf(link: string | null): string | null {
  if (link === null) return null;
  const m = /^<([^>]+)>; rel="next"$/.exec(link);
  assert.ok(m, `a Link header of RFC 8288's form: ${link}`);
  return m[1] ?? null;
}

/** Follows Link headers from `start` to the end; returns every item, in order, and the pages. */
async function walk(svc: TestService, start: string, between?: () => Promise<void>): Promise<{ items: Item[]; pages: PageOf[] }> {
  const items: Item[] = [];
  const pages: PageOf[] = [];
  for (let target: string | null = start; target !== null; target = nextOf(pages[pages.length - 1]?.link ?? null)) {
    const p = await page(svc, target);
    pages.push(p);
    items.push(...p.body.data);
    await between?.();
    assert.ok(pages.length < 10_000);
  }
  return { items, pages };
}

/** Deliveries in parallel through a keep-alive pool. */
async function deliverAll(svc: TestService, messages: readonly Record<string, unknown>[], connections = 32): Promise<void> {
  const pool = createPool(svc.port, connections);
  try {
    let next = 0;
    await Promise.all(Array.from({ length: connections }, async () => {
      while (next < messages.length) {
        const body = JSON.stringify(messages[next++]);
        const res = await pool.send('POST', '/webhook', body, { 'Content-Type': 'application/json', 'X-Signature': signBody(body) });
        assert.equal(res.status, 200);
      }
    }));
  } finally {
    pool.close();
  }
}

const at = (second: number, fraction = ''): string => `2025-03-01T${String(Math.floor(second / 3600)).padStart(2, '0')}:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}${fraction}Z`;

test('a page with more after it has Link rel="next" repeating filters and limit; the walk equals the offset pages', async (t) => {
  const svc = await freshService(t);
  const all = Array.from({ length: 23 }, (_, i) => message({ message_id: `c-${String(i).padStart(2, '0')}`, from: i % 2 === 0 ? '+15550000001' : '+15550000002', ts: at(i), text: i % 3 === 0 ? 'Hello there' : 'bye' }));
  await seed(svc, all);

  const first = await page(svc, '/messages?limit=5');
  assert.equal(nextOf(first.link)?.startsWith('/messages?limit=5&cursor='), true);
  const { items, pages } = await walk(svc, '/messages?limit=5');
  assert.deepEqual(items.map((m) => m.message_id), all.map((m) => m['message_id']));
  assert.equal(pages.length, 5);
  assert.equal(pages.at(-1)?.link, null, 'the last page has no Link');
  for (const p of pages) {
    assert.deepEqual(Object.keys(p.body).sort(), ['data', 'limit', 'offset', 'total']);
    assert.deepEqual([p.body.total, p.body.limit, p.body.offset], [23, 5, 0]);
  }
  const byOffset: string[] = [];
  for (let offset = 0; offset < 23; offset += 5) byOffset.push(...(await page(svc, `/messages?limit=5&offset=${offset}`)).body.data.map((m) => m.message_id));
  assert.deepEqual(items.map((m) => m.message_id), byOffset);
  // An offset page links to the rest by cursor too; an exactly full last page has no Link.
  assert.deepEqual((await walk(svc, '/messages?limit=5&offset=20')).items.map((m) => m.message_id), ['c-20', 'c-21', 'c-22']);
  assert.equal((await page(svc, '/messages?limit=23')).link, null);

  // Filters are repeated (an unencoded + in from is read as a space, and written back as %2B).
  const filtered = await page(svc, `/messages?limit=2&from=+15550000001&q=hello&since=${at(1)}&until=${at(22)}`);
  const target = nextOf(filtered.link) ?? '';
  const params = new URL(target, svc.url).searchParams;
  assert.deepEqual([params.get('limit'), params.get('from'), params.get('q'), params.get('since'), params.get('until')], ['2', '+15550000001', 'hello', at(1), at(22)]);
  assert.match(target, /from=%2B15550000001/);
  const walked = await walk(svc, `/messages?limit=2&from=%2B15550000001&q=hello&since=${at(1)}&until=${at(22)}`);
  assert.deepEqual(walked.items.map((m) => m.message_id), ['c-06', 'c-12', 'c-18']);
  assert.ok(walked.pages.every((p) => p.body.total === 3), 'total counts all matches on cursor pages too');
});

test('walking 2,000 messages by cursor while messages arrive yields every pre-existing one exactly once, in order', { timeout: 120_000 }, async (t) => {
  const svc = await freshService(t);
  // Ties at one instant, fractions that sort differently as text, and a spread of instants.
  const existing = Array.from({ length: 2_000 }, (_, i) => message({
    message_id: `w-${String((i * 7919) % 2000).padStart(4, '0')}`,
    ts: i % 10 === 0 ? at(600) : at(i, i % 3 === 0 ? '.5' : i % 3 === 1 ? '.05' : ''),
  }));
  await deliverAll(svc, existing);
  const expected = (await walkByOffset(svc)).map((m) => m.message_id);
  assert.equal(expected.length, 2_000);

  let arrivals = 0;
  const { items } = await walk(svc, '/messages?limit=37', async () => {
    // Between pages: new messages before, at and after the walk's position.
    await deliverAll(svc, Array.from({ length: 5 }, (_, i) => message({ message_id: `new-${arrivals}-${i}`, ts: at((arrivals * 97 + i * 613) % 2000, '.25') })), 5);
    arrivals += 1;
  });
  const ids = items.map((m) => m.message_id);
  assert.equal(new Set(ids).size, ids.length, 'no message is listed twice');
  assert.deepEqual(ids.filter((id) => id.startsWith('w-')), expected, 'every pre-existing message, once, in list order');
  t.diagnostic(`${arrivals * 5} messages arrived during the walk; ${ids.length - 2_000} of them after its position were listed`);
});

async function walkByOffset(svc: TestService): Promise<Item[]> {
  const out: Item[] = [];
  for (let offset = 0; ; offset += 100) {
    const p = await page(svc, `/messages?limit=100&offset=${offset}`);
    out.push(...p.body.data);
    if (p.body.data.length < 100) return out;
  }
}

test('until keeps messages strictly before the instant; a bad until is a 422', async (t) => {
  const svc = await freshService(t);
  await seed(svc, [
    message({ message_id: 'a', ts: '2025-01-15T10:00:00Z' }),
    message({ message_id: 'b', ts: '2025-01-15T10:00:00.5Z' }),
    message({ message_id: 'c', ts: '2025-01-15T10:00:01Z' }),
  ]);
  const ids = async (q: string): Promise<string[]> => (await page(svc, `/messages?${q}`)).body.data.map((m) => m.message_id);
  assert.deepEqual(await ids('until=2025-01-15T10:00:01Z'), ['a', 'b']);
  assert.deepEqual(await ids('until=2025-01-15T10:00:00.500000000Z'), ['a'], 'the same instant written differently');
  assert.deepEqual(await ids('until=2025-01-15T10:00:00Z'), []);
  assert.deepEqual(await ids('since=2025-01-15T10:00:00.1Z&until=2025-01-15T10:00:01.0001Z'), ['b', 'c']);
  assert.equal((await page(svc, '/messages?until=2025-01-15T10:00:01Z')).body.total, 2);
  for (const bad of ['', 'yesterday', '2025-01-15T10:00:00+00:00', '2025-02-30T00:00:00Z']) {
    const res = await svc.get(`/messages?until=${encodeURIComponent(bad)}`);
    assert.equal(res.status, 422);
    const body = await bodyOf(res);
    assert.deepEqual(body.detail.map((d: { loc: string[] }) => d.loc), [['query', 'until']]);
  }
});

test('a forged, altered or misused cursor is a 422 at ["query","cursor"], never a 500 or another query', async (t) => {
  const svc = await freshService(t);
  await seed(svc, Array.from({ length: 6 }, (_, i) => message({ message_id: `f-${i}`, ts: at(i) })));
  const good = new URL(nextOf((await page(svc, '/messages?limit=2')).link) ?? '', svc.url).searchParams.get('cursor') ?? '';
  assert.match(good, /^[A-Za-z0-9_-]+$/, 'URL-safe without encoding');
  assert.deepEqual((await page(svc, `/messages?limit=2&cursor=${good}`)).body.data.map((m) => m.message_id), ['f-2', 'f-3']);

  const refused = async (query: string, loc = 'cursor'): Promise<void> => {
    const res = await svc.get(`/messages?${query}`);
    assert.equal(res.status, 422, query);
    const body = await bodyOf(res);
    assert.ok(body.detail.some((d: { loc: string[]; type: string }) => d.loc[0] === 'query' && d.loc[1] === loc && d.type === 'value_error'), JSON.stringify(body));
  };
  // Every single-character change of the cursor.
  const alphabet = 'AZaz09-_';
  for (let i = 0; i < good.length; i += 1) {
    const swapped = alphabet[(alphabet.indexOf(good[i] ?? 'A') + 1) % alphabet.length] ?? 'A';
    const other = good[i] === swapped ? 'Q' : swapped;
    await refused(`limit=2&cursor=${good.slice(0, i)}${other}${good.slice(i + 1)}`);
  }
  for (const bad of [good.slice(0, -1), `${good}A`, good.slice(4), 'A', 'AAAA', 'not a cursor', '%00%01', 'ÿÿÿÿ', `${good}=`, '_'.repeat(5000), Buffer.from('{"ts_key":"x"}').toString('base64url')]) {
    await refused(`limit=2&cursor=${encodeURIComponent(bad)}`);
  }
  // Bound to the filters it was made for.
  await refused(`limit=2&from=%2B919876543210&cursor=${good}`);
  await refused(`limit=2&since=${at(0)}&cursor=${good}`);
  await refused(`limit=2&q=hello&cursor=${good}`);
  // With a cursor, offset must be absent or 0; the limit may change.
  await refused(`limit=2&offset=2&cursor=${good}`, 'offset');
  assert.equal((await page(svc, `/messages?limit=2&offset=0&cursor=${good}`)).body.data.length, 2);
  assert.deepEqual((await page(svc, `/messages?limit=10&cursor=${good}`)).body.data.map((m) => m.message_id), ['f-2', 'f-3', 'f-4', 'f-5']);
  // An empty cursor is no cursor.
  assert.equal((await page(svc, '/messages?limit=2&cursor=')).body.data[0]?.message_id, 'f-0');
  assert.ok(!svc.accessLogs().some((l) => Number(l['status']) >= 500));
});

test('a cursor stays valid after a restart (its key lives in the database)', async (t) => {
  const database = await newTestDatabase(t);
  const one = await startTestService({ database });
  await seed(one, Array.from({ length: 4 }, (_, i) => message({ message_id: `r-${i}`, ts: at(i) })));
  const next = nextOf((await page(one, '/messages?limit=2&q=hello')).link) ?? '';
  await one.stop();
  const two = await startTestService({ database });
  t.after(() => two.stop());
  assert.deepEqual((await page(two, next)).body.data.map((m) => m.message_id), ['r-2', 'r-3']);
  const key = (await database.sql("SELECT key FROM service_keys WHERE name = 'cursor'"))[0]?.['key'];
  // A BLOB in SQLite, a bytea (read back as \x…) in PostgreSQL.
  const bytes = typeof key === 'string' ? Buffer.from(key.replace(/^\\x/, ''), 'hex') : key;
  assert.ok(bytes instanceof Uint8Array && bytes.length === 32);
});

test('rows of the earlier service with an unreadable ts are paged by cursor too', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'legacy.db');
  const db = new DatabaseSync(dbPath);
  db.exec('CREATE TABLE messages (message_id TEXT PRIMARY KEY, from_msisdn TEXT NOT NULL, to_msisdn TEXT NOT NULL, ts TEXT NOT NULL, text TEXT, created_at TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
  for (const [id, ts] of [['x', 'garbage'], ['y', 'not a time'], ['z', '2025-01-15T10:00:00Z']] as const) insert.run(id, '+1555', '+1666', ts, null, '2025-01-01T00:00:00Z');
  db.close();
  const svc = await startTestService({ dbPath });
  t.after(() => svc.stop());
  assert.deepEqual((await walk(svc, '/messages?limit=1')).items.map((m) => m.message_id), ['x', 'y', 'z']);
});

test('HEAD of a page carries its Link and ETag headers, no body', async (t) => {
  const svc = await freshService(t);
  await seed(svc, [message({ message_id: 'h1' }), message({ message_id: 'h2' })]);
  const get = await svc.get('/messages?limit=1');
  const head = await svc.get('/messages?limit=1', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.equal(head.headers.get('link'), get.headers.get('link'));
  assert.equal(head.headers.get('etag'), get.headers.get('etag'));
});

test('order=desc lists newest first; its cursors walk backwards, bound to that order; a bad order is a 422', async (t) => {
  const svc = await freshService(t);
  // Two at one instant (message_id breaks the tie), and `.5` later than `:00` although it sorts first as text.
  const all = [
    message({ message_id: 'd-a', ts: at(0) }), message({ message_id: 'd-b', ts: at(1) }), message({ message_id: 'd-c', ts: at(1) }),
    message({ message_id: 'd-d', ts: at(1, '.5') }), message({ message_id: 'd-e', ts: at(2), from: '+15550000009' }), message({ message_id: 'd-f', ts: at(3) }),
  ];
  await seed(svc, all);
  const { items, pages } = await walk(svc, '/messages?order=desc&limit=2');
  assert.deepEqual(items.map((m) => m.message_id), ['d-f', 'd-e', 'd-d', 'd-c', 'd-b', 'd-a']);
  assert.equal(pages.length, 3);
  assert.match(pages[0]?.link ?? '', /[?&]order=desc&/, 'the Link repeats the order');
  assert.ok(pages.every((p) => p.body.total === 6 && p.body.offset === 0));
  assert.deepEqual((await page(svc, '/messages?order=desc&limit=2&offset=3')).body.data.map((m) => m.message_id), ['d-c', 'd-b']);
  assert.deepEqual((await page(svc, '/messages?order=asc&limit=2')).body.data.map((m) => m.message_id), ['d-a', 'd-b']);
  // Filters apply as in the ascending list, on cursor pages too.
  const bounded = await walk(svc, `/messages?order=desc&limit=1&since=${at(1)}&until=${at(3)}`);
  assert.deepEqual(bounded.items.map((m) => m.message_id), ['d-e', 'd-d', 'd-c', 'd-b']);
  assert.deepEqual((await walk(svc, '/messages?order=desc&limit=1&from=%2B15550000009')).items.map((m) => m.message_id), ['d-e']);

  // A cursor of one order is refused by the other (it would be another query).
  const descCursor = new URL(nextOf(pages[0]?.link ?? null) ?? '', svc.url).searchParams.get('cursor') ?? '';
  const ascCursor = new URL(nextOf((await page(svc, '/messages?limit=2')).link) ?? '', svc.url).searchParams.get('cursor') ?? '';
  for (const query of [`limit=2&cursor=${descCursor}`, `order=asc&limit=2&cursor=${descCursor}`, `order=desc&limit=2&cursor=${ascCursor}`]) {
    const res = await svc.get(`/messages?${query}`);
    assert.equal(res.status, 422, query);
    assert.equal((await bodyOf(res)).detail[0].loc[1], 'cursor');
  }
  for (const bad of ['DESC', 'descending', '', '1', 'asc,desc']) {
    const res = await svc.get(`/messages?order=${encodeURIComponent(bad)}`);
    assert.equal(res.status, 422, bad);
    assert.deepEqual((await bodyOf(res)).detail.map((d: { loc: string[] }) => d.loc), [['query', 'order']]);
  }
});

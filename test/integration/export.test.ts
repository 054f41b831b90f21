// GET /messages/export over a real socket: NDJSON and CSV of every match in list order, pages read
// only as fast as the client takes them, each page its own snapshot, aborted when the client goes,
// a cap on exports at once, and failures that never look like a complete export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { withinMs } from '../helpers/child-service.ts';
import { parseCsv } from '../helpers/csv.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { createPool } from '../helpers/http-client.ts';
import { bodyOf, freshService, message, seed, signBody, tempDir, type TestService } from '../helpers/service.ts';
import { failingStore } from '../helpers/stores.ts';

type Item = { message_id: string; from: string; to: string; ts: string; text: string | null };

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

/** Every item of the list for `query`, walked by cursor. */
async function listAll(svc: TestService, query = ''): Promise<Item[]> {
  const items: Item[] = [];
  let target: string | null = `/messages?limit=100${query}`;
  while (target !== null) {
    const res = await svc.get(target);
    assert.equal(res.status, 200);
    items.push(...(await bodyOf(res)).data);
    target = /^<([^>]+)>/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
  }
  return items;
}

const fromCsv = (text: string): Item[] => {
  const [header, ...records] = parseCsv(text);
  assert.deepEqual(header?.map((f) => f.value), ['message_id', 'from', 'to', 'ts', 'text']);
  return records.map((r) => {
    assert.equal(r.length, 5);
    const [id, from, to, ts, body] = r;
    return { message_id: id?.value ?? '', from: from?.value ?? '', to: to?.value ?? '', ts: ts?.value ?? '', text: body?.value === '' && body.quoted === false ? null : (body?.value ?? null) };
  });
};

const fromNdjson = (text: string): Item[] => {
  assert.ok(text === '' || text.endsWith('\n'));
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const item = JSON.parse(l) as Item;
    assert.deepEqual(Object.keys(item), ['message_id', 'from', 'to', 'ts', 'text']);
    return item;
  });
};

const HOSTILE_TEXTS = ['plain', 'comma, inside', 'quote " inside', '"quoted"', 'line\nfeed', 'carriage\rreturn', 'crlf\r\nin the middle', '', ' padded ', 'é中👍 ÉCOLE', ',', '"', '\r\n', null, '=1+2', 'tab\there'];

test('an export of 10,000 messages equals the list, in NDJSON and in CSV (which a strict RFC 4180 parser reads back)', { timeout: 180_000 }, async (t) => {
  const svc = await freshService(t);
  const messages = Array.from({ length: 10_000 }, (_, i) => message({
    message_id: i % 97 === 0 ? `id, "${i}"\r\n` : `x-${String((i * 7919) % 10_000).padStart(5, '0')}`,
    from: `+1555${String(i % 13).padStart(7, '0')}`,
    ts: `2025-01-${String(1 + (i % 28)).padStart(2, '0')}T10:00:0${i % 10}${i % 3 === 0 ? '.5' : ''}Z`,
    text: HOSTILE_TEXTS[i % HOSTILE_TEXTS.length],
  }));
  await deliverAll(svc, messages);
  const list = await listAll(svc);
  assert.equal(list.length, 10_000);

  const ndjson = await svc.get('/messages/export');
  assert.equal(ndjson.status, 200);
  assert.equal(ndjson.headers.get('content-type'), 'application/x-ndjson');
  assert.equal(ndjson.headers.get('content-length'), null, 'streamed, not buffered');
  assert.equal(ndjson.headers.get('content-disposition'), 'attachment; filename="messages.ndjson"');
  assert.deepEqual(fromNdjson(await ndjson.text()), list);

  const csv = await svc.get('/messages/export?format=csv');
  assert.equal(csv.status, 200);
  assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(csv.headers.get('content-disposition'), 'attachment; filename="messages.csv"');
  assert.deepEqual(fromCsv(await csv.text()), list);

  // The same filters as the list.
  const query = `&from=%2B15550000003&since=2025-01-05T00:00:00Z&until=2025-01-20T00:00:00Z&q=${encodeURIComponent('école')}`;
  const filtered = await listAll(svc, query);
  assert.ok(filtered.length > 0);
  assert.deepEqual(fromNdjson(await (await svc.get(`/messages/export?${query.slice(1)}`)).text()), filtered);
  assert.deepEqual(fromCsv(await (await svc.get(`/messages/export?format=csv${query}`)).text()), filtered);
  const line = svc.accessLogs().filter((l) => l['path'] === '/messages/export')[0] ?? {};
  assert.equal(line['rows'], 10_000);
  assert.equal(line['stream_end'], 'complete');
  assert.equal(metricValue(await scrape(svc), 'http_requests_total{path="/messages/export",status="200"}'), 4);
});

test('CSV keeps NULL and the empty string apart, and quotes only what RFC 4180 needs', async (t) => {
  const svc = await freshService(t);
  await seed(svc, [
    message({ message_id: 'a', ts: '2025-01-01T00:00:01Z', text: null }),
    message({ message_id: 'b', ts: '2025-01-01T00:00:02Z', text: '' }),
    message({ message_id: 'c', ts: '2025-01-01T00:00:03Z', text: 'say "hi", then\r\nbye' }),
  ]);
  assert.equal(
    await (await svc.get('/messages/export?format=csv')).text(),
    'message_id,from,to,ts,text\r\n' +
      'a,+919876543210,+14155550100,2025-01-01T00:00:01Z,\r\n' +
      'b,+919876543210,+14155550100,2025-01-01T00:00:02Z,""\r\n' +
      'c,+919876543210,+14155550100,2025-01-01T00:00:03Z,"say ""hi"", then\r\nbye"\r\n',
  );
  assert.equal(await (await svc.get('/messages/export?format=csv&q=nothing-matches')).text(), 'message_id,from,to,ts,text\r\n');
  assert.equal(await (await svc.get('/messages/export?q=nothing-matches')).text(), '');
});

test('bad export parameters are 422s; HEAD answers the head only', async (t) => {
  const svc = await freshService(t);
  for (const [query, loc] of [['format=xml', 'format'], ['format=', 'format'], ['format=CSV', 'format'], ['since=soon', 'since'], ['until=2025-13-01T00:00:00Z', 'until']] as const) {
    const res = await svc.get(`/messages/export?${query}`);
    assert.equal(res.status, 422, query);
    assert.deepEqual((await bodyOf(res)).detail.map((d: { loc: string[] }) => d.loc), [['query', loc]]);
  }
  const res = await svc.get('/messages/export?format=xml');
  assert.equal((await bodyOf(res)).detail[0].type, 'literal_error');
  const head = await svc.get('/messages/export?format=csv', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(await head.text(), '');
});

type Counting = Store & { scans(): number };

/** The real store, counting the export pages read. */
async function countingStore(t: { after(fn: () => unknown): void }): Promise<{ store: Counting; dbPath: string }> {
  const dir = tempDir();
  const dbPath = join(dir, 'count.db');
  const { store } = await openWorkerStore({ path: dbPath, now: () => new Date() });
  let scans = 0;
  const counting: Counting = { ...store, scan: (...args) => ((scans += 1), store.scan(...args)), scans: () => scans };
  t.after(() => store.close());
  return { store: counting, dbPath };
}

/** GET on a raw socket that reads the head and then stops reading. */
function stalledGet(port: number, path: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

test('a client that stops reading stops the reads; no snapshot is held meanwhile; reading again finishes the export', { timeout: 180_000 }, async (t) => {
  const { store, dbPath } = await countingStore(t);
  const svc = await freshService(t, { store });
  const big = 'z'.repeat(4000);
  await deliverAll(svc, Array.from({ length: 6_000 }, (_, i) => message({ message_id: `big-${String(i).padStart(5, '0')}`, text: big })));
  const before = store.scans();
  const latencySumBefore = metricValue(await scrape(svc), 'request_latency_ms_sum') ?? NaN;

  const socket = await stalledGet(svc.port, '/messages/export');
  t.after(() => socket.destroy());
  // Reads go on until the socket's buffers are full, then stop.
  let settled = store.scans();
  for (let quiet = 0; quiet < 5; ) {
    await sleep(100);
    quiet = store.scans() === settled ? quiet + 1 : 0;
    settled = store.scans();
  }
  const pages = settled - before;
  // About 24 MB in pages of about 256 KiB: nearly 100 pages; the kernel holds a few MB of them.
  assert.ok(pages < 50, `${pages} pages read for a client that reads nothing`);
  t.diagnostic(`${pages} of about 95 pages read while the client read nothing`);

  // No read transaction is open while the export waits: a full checkpoint goes through.
  const other = new DatabaseSync(dbPath);
  const checkpoint = other.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
  other.close();
  assert.equal(checkpoint?.['busy'], 0, 'the WAL was checkpointed past the export');
  // And ingest is not held up.
  await seed(svc, [message({ message_id: 'during-export' })]);

  let received = 0;
  let tail = '';
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-16);
      if (tail.endsWith('\r\n0\r\n\r\n')) resolve(); // the last chunk of a chunked body
    });
  });
  socket.resume();
  await withinMs(60_000, 'the rest of the export', done);
  assert.ok(received > 6_000 * 4000, `${received} bytes`);
  const line = svc.accessLogs().find((l) => l['path'] === '/messages/export') ?? {};
  assert.equal(line['stream_end'], 'complete');
  assert.ok(Number(line['rows']) >= 6_000);
  // The latency histogram got the export's time to its head (plus a scrape and a delivery), not
  // the seconds it ran while its client read nothing.
  assert.ok(Number(line['duration_ms']) >= 500 && Number(line['latency_ms']) < Number(line['duration_ms']));
  const grew = (metricValue(await scrape(svc), 'request_latency_ms_sum') ?? NaN) - latencySumBefore;
  assert.ok(grew < Number(line['duration_ms']), `histogram sum grew by ${grew} ms for an export of ${String(line['duration_ms'])} ms`);
});

test('an export whose client goes away is aborted: reads stop, its slot is free again', { timeout: 120_000 }, async (t) => {
  const { store } = await countingStore(t);
  const svc = await freshService(t, { store });
  await deliverAll(svc, Array.from({ length: 3_000 }, (_, i) => message({ message_id: `g-${i}`, text: 'y'.repeat(4000) })));
  const socket = await stalledGet(svc.port, '/messages/export?format=csv');
  const closed = store.scans();
  socket.destroy();
  await withinMs(10_000, 'the export to end', (async () => {
    while (!svc.accessLogs().some((l) => l['path'] === '/messages/export')) await sleep(10);
  })());
  const line = svc.accessLogs().find((l) => l['path'] === '/messages/export') ?? {};
  assert.equal(line['stream_end'], 'client_closed');
  assert.ok(store.scans() - closed <= 2, 'at most the page being read and the one read ahead');
  assert.ok(Number(line['rows']) < 3_000);
});

test('at most 16 exports at once: the 17th is 503 server busy until one ends', { timeout: 120_000 }, async (t) => {
  const svc = await freshService(t);
  await deliverAll(svc, Array.from({ length: 2_000 }, (_, i) => message({ message_id: `m-${i}`, text: 'w'.repeat(4000) })));
  const sockets = await Promise.all(Array.from({ length: 16 }, () => stalledGet(svc.port, '/messages/export')));
  t.after(() => sockets.forEach((s) => s.destroy()));
  const refused = await svc.get('/messages/export');
  assert.equal(refused.status, 503);
  assert.deepEqual(await bodyOf(refused), { detail: 'server busy' });
  assert.equal(refused.headers.get('retry-after'), '1');
  sockets[0]?.destroy();
  await withinMs(10_000, 'a free slot', (async () => {
    for (;;) {
      const res = await svc.get('/messages/export?q=nothing');
      if (res.status === 200) return;
      await res.body?.cancel();
      await sleep(20);
    }
  })());
});

test('a database that fails: 503 before the export starts; a page that fails later aborts it so it never looks complete', async (t) => {
  const down = await freshService(t, { store: failingStore() });
  const res = await down.get('/messages/export');
  assert.equal(res.status, 503);
  assert.deepEqual(await bodyOf(res), { detail: 'storage unavailable' });

  const { store } = await countingStore(t);
  const failing: Store = { ...store, scan: async (...args) => (store.scans() >= 2 ? { ok: false, error: new Error('SQLITE_IOERR: disk I/O error') } : store.scan(...args)) };
  const svc = await freshService(t, { store: failing });
  await deliverAll(svc, Array.from({ length: 3_000 }, (_, i) => message({ message_id: `p-${i}`, text: 'v'.repeat(2000) })));
  const partial = await svc.get('/messages/export');
  assert.equal(partial.status, 200);
  await assert.rejects(partial.text(), 'the body ends with an error, not cleanly');
  await withinMs(5_000, 'the log line', (async () => {
    while (!svc.accessLogs().some((l) => l['path'] === '/messages/export')) await sleep(10);
  })());
  const line = svc.accessLogs().find((l) => l['path'] === '/messages/export') ?? {};
  assert.equal(line['stream_end'], 'failed');
  assert.ok(svc.logs.some((l) => l['msg'] === 'storage read failed' && l['during'] === 'export'));
  assert.ok(!svc.rawLog().includes('v'.repeat(100)), 'no message text in the log');
});

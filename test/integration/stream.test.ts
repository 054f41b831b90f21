// GET /messages/stream over a real socket: live events of exactly the created messages, replay
// after Last-Event-ID with a gap-free, repeat-free handover under concurrent ingest, filters,
// heartbeats, the MAX_STREAMS cap, the slow-client cut-off, timeouts and shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import { withinMs } from '../helpers/child-service.ts';
import { createPool } from '../helpers/http-client.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, freshService, message, seed, signBody, tempDir, type TestService } from '../helpers/service.ts';
import { messagesOf, openSse, type SseClient } from '../helpers/sse.ts';
import { failingStore } from '../helpers/stores.ts';

const FIELDS = ['from', 'message_id', 'text', 'to', 'ts'];

/** Every message in the database as (seq, message_id), in seq order: the ground truth. */
async function storedArrivals(svc: TestService): Promise<{ seq: number; id: string }[]> {
  // SQLite's seq is the rowid; PostgreSQL numbers arrivals in a table of their own.
  const rows = await svc.database.sql(svc.database.backend === 'sqlite'
    ? 'SELECT rowid AS seq, message_id FROM messages ORDER BY rowid'
    : 'SELECT seq, message_id FROM arrivals ORDER BY seq');
  return rows.map((r) => ({ seq: Number(r['seq']), id: String(r['message_id']) }));
}

function stream(svc: TestService, query = '', headers: Record<string, string> = {}): Promise<SseClient> {
  return openSse(`${svc.url}/messages/stream${query}`, headers);
}

/** Delivers a marker message and waits until the stream has it: everything committed before has arrived. */
async function sync(svc: TestService, clients: readonly SseClient[], marker: string): Promise<void> {
  assert.equal((await svc.deliver(message({ message_id: marker }))).status, 200);
  await Promise.all(clients.map((c) => c.waitFor(marker, (events) => messagesOf(events).some((m) => m.message.message_id === marker))));
}

/** Deliveries from `workers` concurrent loops until stop() is called. */
function ingest(svc: TestService, prefix: string, workers = 8): { stop(): Promise<number> } {
  const pool = createPool(svc.port, workers);
  let running = true;
  let n = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const body = JSON.stringify(message({ message_id: `${prefix}-${(n += 1)}`, text: `load ${n}` }));
      const res = await pool.send('POST', '/webhook', body, { 'Content-Type': 'application/json', 'X-Signature': signBody(body) });
      assert.equal(res.status, 200);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      pool.close();
      return n;
    },
  };
}

test('a stream sees exactly the created messages of 1,000 concurrent deliveries, once each, in seq order', async (t) => {
  const svc = await freshService(t);
  await seed(svc, [message({ message_id: 'before-the-stream' })]);
  const client = await stream(svc);
  t.after(() => client.close());
  assert.equal(client.status, 200);
  assert.equal(client.headers.get('content-type'), 'text/event-stream');
  assert.equal(client.headers.get('cache-control'), 'no-cache');
  await client.waitFor('the starting id', () => client.lastId() === '1');

  // 1,000 deliveries of 600 distinct ids: 400 are repeats, many of them at the same moment.
  const ids = Array.from({ length: 1_000 }, (_, i) => `burst-${i % 600}`);
  const pool = createPool(svc.port, 64);
  t.after(() => pool.close());
  const statuses = await Promise.all(ids.map((id) => {
    const body = JSON.stringify(message({ message_id: id, text: `text of ${id}` }));
    return pool.send('POST', '/webhook', body, { 'Content-Type': 'application/json', 'X-Signature': signBody(body) }).then((r) => r.status);
  }));
  assert.ok(statuses.every((s) => s === 200));
  await sync(svc, [client], 'sentinel');

  const got = messagesOf(client.events);
  const burst = got.filter((m) => String(m.message.message_id).startsWith('burst-'));
  assert.equal(burst.length, 600, 'each created message once; no duplicate delivery was streamed');
  assert.equal(new Set(burst.map((m) => m.message.message_id)).size, 600);
  assert.ok(!got.some((m) => m.message.message_id === 'before-the-stream'), 'only messages stored from now on');
  for (let i = 1; i < got.length; i += 1) assert.ok((got[i]?.id ?? 0) > (got[i - 1]?.id ?? 0), 'ids strictly increase');
  // The id is the store's arrival sequence, and the data is the stored message's five fields.
  const truth = new Map((await storedArrivals(svc)).map((a) => [a.id, a.seq]));
  for (const m of got) {
    assert.equal(truth.get(String(m.message.message_id)), m.id);
    assert.deepEqual(Object.keys(m.message).sort(), FIELDS);
  }
  assert.equal(burst[0]?.message.text, `text of ${String(burst[0]?.message.message_id)}`);
  assert.ok(client.events.every((e) => e.event === 'message'));
});

test('resume with Last-Event-ID after disconnects, under concurrent ingest: nothing missed, nothing repeated', { timeout: 120_000 }, async (t) => {
  const svc = await freshService(t);
  await seed(svc, Array.from({ length: 20 }, (_, i) => message({ message_id: `early-${i}` })));
  const load = ingest(svc, 'resume');
  t.after(() => load.stop());

  const seen: number[] = [];
  let lastId = '5';
  for (let round = 0; round < 8; round += 1) {
    // Alternately the header (as EventSource sends it) and the query parameter.
    const client = round % 2 === 0 ? await stream(svc, '', { 'Last-Event-ID': lastId }) : await stream(svc, `?last_event_id=${lastId}`);
    assert.equal(client.status, 200);
    const want = seen.length + 30 + round * 20;
    await client.waitFor(`${want} events`, () => seen.length + messagesOf(client.events).length >= want);
    client.close();
    await client.ended;
    seen.push(...messagesOf(client.events).map((m) => m.id));
    lastId = client.lastId();
  }
  const total = await load.stop();
  assert.ok(total > 100, `ingest ran (${total} deliveries)`);
  const last = await stream(svc, '', { 'Last-Event-ID': lastId });
  t.after(() => last.close());
  await sync(svc, [last], 'resume-sentinel');
  seen.push(...messagesOf(last.events).map((m) => m.id));

  const expected = (await storedArrivals(svc)).map((a) => a.seq).filter((seq) => seq > 5);
  assert.deepEqual(seen, expected);
});

test('streams opened during concurrent ingest hand over from replay to live without a gap or a repeat', { timeout: 120_000 }, async (t) => {
  // A small unread limit makes the batches kept during replay overflow, so replay also goes back
  // to the database for them (tail.ts); the result must be the same.
  const svc = await freshService(t, { streamMaxUnreadBytes: 64 * 1024 });
  await seed(svc, Array.from({ length: 50 }, (_, i) => message({ message_id: `pre-${i}` })));
  const load = ingest(svc, 'handover', 12);
  t.after(() => load.stop());
  const clients: { client: SseClient; after: number }[] = [];
  t.after(() => clients.forEach((c) => c.client.close()));
  for (let i = 0; i < 12; i += 1) {
    const head = (await storedArrivals(svc)).at(-1)?.seq ?? 0;
    const after = i % 3 === 0 ? 0 : Math.max(0, head - 40 * i);
    clients.push({ client: await stream(svc, '', { 'Last-Event-ID': String(after) }), after });
    await clients[0]?.client.waitFor('more arrivals', (events) => events.length >= 50 * (i + 1));
  }
  const total = await load.stop();
  await sync(svc, clients.map((c) => c.client), 'handover-sentinel');
  const truth = (await storedArrivals(svc)).map((a) => a.seq);
  for (const { client, after } of clients) {
    assert.deepEqual(messagesOf(client.events).map((m) => m.id), truth.filter((seq) => seq > after), `stream after ${after}`);
  }
  t.diagnostic(`${total} deliveries during the run, ${truth.length} messages`);
});

test('from and q filter the replay and the live events', async (t) => {
  const svc = await freshService(t);
  const pick = { from: '+15550001111', text: 'Grüße an ÉCOLE' };
  await seed(svc, [
    message({ message_id: 'r-match', ...pick }),
    message({ message_id: 'r-other-sender', text: 'école' }),
    message({ message_id: 'r-other-text', from: pick.from, text: 'nothing' }),
    message({ message_id: 'r-null-text', from: pick.from, text: null }),
  ]);
  const client = await stream(svc, `?from=${encodeURIComponent(pick.from)}&q=${encodeURIComponent('école')}`, { 'Last-Event-ID': '0' });
  t.after(() => client.close());
  await seed(svc, [
    message({ message_id: 'l-match', from: pick.from, text: 'ÉCOLE again' }),
    message({ message_id: 'l-other', text: 'ÉCOLE' }),
    message({ message_id: 'l-match-2', from: pick.from, text: 'une école' }),
  ]);
  await client.waitFor('two live matches', (events) => messagesOf(events).length >= 3);
  await sync(svc, [await stream(svc)], 'filter-sync'); // all seeded messages are committed and fanned out
  assert.deepEqual(messagesOf(client.events).map((m) => m.message.message_id), ['r-match', 'l-match', 'l-match-2']);
  // The resume point still moves past the replayed rows that did not match.
  const plain = await stream(svc, '?from=%2B10000000000', { 'Last-Event-ID': '0' });
  t.after(() => plain.close());
  const head = String((await storedArrivals(svc)).at(-1)?.seq);
  await plain.waitFor('the head as its id', () => plain.lastId() === head);
  assert.equal(messagesOf(plain.events).length, 0);
});

test('a bad Last-Event-ID is a 422; the header wins over the query', async (t) => {
  const svc = await freshService(t);
  for (const [headers, query, loc] of [
    [{ 'Last-Event-ID': 'abc' }, '', ['header', 'last-event-id']],
    [{ 'Last-Event-ID': '-1' }, '', ['header', 'last-event-id']],
    [{ 'Last-Event-ID': '1.5' }, '', ['header', 'last-event-id']],
    [{ 'Last-Event-ID': '99999999999999999999' }, '', ['header', 'last-event-id']],
    [{}, '?last_event_id=x', ['query', 'last_event_id']],
  ] as const) {
    const res = await svc.get(`/messages/stream${query}`, { headers });
    assert.equal(res.status, 422);
    const body = await bodyOf(res);
    assert.deepEqual(body.detail[0].loc, loc);
    assert.equal(body.detail[0].type, 'value_error');
  }
  await seed(svc, [message({ message_id: 'one' }), message({ message_id: 'two' })]);
  const client = await stream(svc, '?last_event_id=0', { 'Last-Event-ID': '1' });
  t.after(() => client.close());
  await client.waitFor('the replay', (events) => events.length >= 1);
  assert.deepEqual(messagesOf(client.events).map((m) => m.message.message_id), ['two']);
  // An id past the head resumes from the head, and says so.
  const ahead = await stream(svc, '', { 'Last-Event-ID': '1000' });
  t.after(() => ahead.close());
  await ahead.waitFor('the head', () => ahead.lastId() === '2');
  await seed(svc, [message({ message_id: 'three' })]);
  await ahead.waitFor('three', (events) => messagesOf(events).some((m) => m.message.message_id === 'three'));
});

test('an idle stream carries a heartbeat comment every period', async (t) => {
  const svc = await freshService(t, { streamHeartbeatMs: 100 });
  const client = await stream(svc);
  t.after(() => client.close());
  const started = Date.now();
  await client.waitFor('three heartbeats', () => client.comments() >= 3, 10_000);
  assert.ok(Date.now() - started >= 250, 'not faster than the period');
  assert.equal(messagesOf(client.events).length, 0);
});

test('MAX_STREAMS (default 100): the 101st stream is 503 server busy; streams_open counts them', { timeout: 60_000 }, async (t) => {
  const svc = await freshService(t);
  const clients = await Promise.all(Array.from({ length: 100 }, () => stream(svc)));
  t.after(() => clients.forEach((c) => c.close()));
  assert.ok(clients.every((c) => c.status === 200));
  assert.equal(metricValue(await scrape(svc), 'streams_open'), 100);
  const refused = await svc.get('/messages/stream');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.deepEqual(await bodyOf(refused), { detail: 'server busy' });
  // Everyone gets the next message.
  await sync(svc, clients, 'to-all');
  clients[0]?.close();
  await clients[0]?.ended;
  await withinMs(5_000, 'a free slot', (async () => {
    while (metricValue(await scrape(svc), 'streams_open') !== 99) await new Promise((r) => setImmediate(r));
  })());
  const again = await stream(svc);
  t.after(() => again.close());
  assert.equal(again.status, 200);
  const text = await scrape(svc);
  assert.match(text, /^http_requests_total\{path="\/messages\/stream",status="503"\} 1$/m);
  assert.match(text, /^# TYPE streams_open gauge$/m);
});

test('MAX_STREAMS=0 refuses every stream', async (t) => {
  const svc = await freshService(t, { env: { MAX_STREAMS: '0' } });
  const res = await svc.get('/messages/stream');
  assert.equal(res.status, 503);
  assert.deepEqual(await bodyOf(res), { detail: 'server busy' });
});

test('a client that stops reading is cut off once over the unread limit, and resumes with Last-Event-ID', { timeout: 120_000 }, async (t) => {
  const svc = await freshService(t);
  await seed(svc, [message({ message_id: 'first' })]);
  // A raw socket that reads the head and then nothing more.
  const socket = connect(svc.port, '127.0.0.1');
  t.after(() => socket.destroy());
  let head = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n') && head.includes('id: 1')) {
        socket.off('data', onData);
        socket.pause();
        resolve();
      }
    };
    socket.on('data', onData);
    socket.write('GET /messages/stream HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  assert.match(head, /^HTTP\/1\.1 200 /);

  const pool = createPool(svc.port, 16);
  t.after(() => pool.close());
  const text = 'x'.repeat(4000);
  let sent = 0;
  let cut = false;
  const cutLine = (): Record<string, unknown> | undefined => svc.accessLogs().find((l) => l['path'] === '/messages/stream' && l['stream_end'] === 'cut_off');
  const deliverers = Array.from({ length: 16 }, async () => {
    while (!cut && sent < 20_000) {
      const body = JSON.stringify(message({ message_id: `big-${(sent += 1)}`, text }));
      const res = await pool.send('POST', '/webhook', body, { 'Content-Type': 'application/json', 'X-Signature': signBody(body) });
      assert.equal(res.status, 200);
      cut = cutLine() !== undefined;
    }
  });
  await Promise.all(deliverers);
  const line = cutLine();
  assert.ok(line, `cut off after ${sent} deliveries of 4 KB`);
  // What the service handed to the socket stays near the limit (plus what the kernel buffers),
  // however much more was delivered.
  assert.ok(Number(line['bytes']) < 16 * 1024 * 1024, `bytes ${String(line['bytes'])}`);
  t.diagnostic(`cut off after ${sent} deliveries of 4 KB, ${String(line['bytes'])} bytes handed to the socket`);
  socket.resume(); // reads what the kernel holds, then sees the close
  await withinMs(10_000, 'the server to close the connection', closed);
  assert.equal(metricValue(await scrape(svc), 'streams_open'), 0);

  const resumed = await stream(svc, '', { 'Last-Event-ID': '1' });
  t.after(() => resumed.close());
  await resumed.waitFor('every big message', (events) => messagesOf(events).length >= sent, 60_000);
  assert.deepEqual(messagesOf(resumed.events).map((m) => m.id), (await storedArrivals(svc)).map((a) => a.seq).filter((s) => s > 1));
});

test('a stream outlives the request timeout; HEAD answers the head only', async (t) => {
  const svc = await freshService(t, { timeoutMs: 200 });
  const client = await stream(svc);
  t.after(() => client.close());
  await new Promise((resolve) => setTimeout(resolve, 900));
  await seed(svc, [message({ message_id: 'late' })]);
  await client.waitFor('the late message', (events) => messagesOf(events).some((m) => m.message.message_id === 'late'));

  const head = await svc.get('/messages/stream', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'text/event-stream');
  assert.equal(await head.text(), '');
});

test('shutdown ends every stream at once, cleanly, and the drain is not held up', async (t) => {
  const svc = await freshService(t);
  const clients = await Promise.all(Array.from({ length: 5 }, () => stream(svc)));
  await Promise.all(clients.map((c) => c.waitFor('the start', () => c.lastId() !== '')));
  const started = Date.now();
  await withinMs(3_000, 'shutdown', svc.shutdown('test'));
  assert.ok(Date.now() - started < 3_000);
  assert.deepEqual(await Promise.all(clients.map((c) => c.ended)), [true, true, true, true, true], 'each stream ended cleanly');
  const ends = svc.accessLogs().filter((l) => l['path'] === '/messages/stream').map((l) => l['stream_end']);
  assert.deepEqual(ends, ['shutdown', 'shutdown', 'shutdown', 'shutdown', 'shutdown']);
});

test('a store that cannot read: the stream is 503 storage unavailable', async (t) => {
  const svc = await freshService(t, { store: failingStore() });
  const res = await svc.get('/messages/stream', { headers: { 'Last-Event-ID': '3' } });
  assert.equal(res.status, 503);
  assert.deepEqual(await bodyOf(res), { detail: 'storage unavailable' });
  assert.equal(metricValue(await scrape(svc), 'streams_open'), 0);
});

test('the access-log line of a stream comes when it ends: time to head as latency_ms, its duration, bytes, events', async (t) => {
  const svc = await freshService(t);
  await seed(svc, [message({ message_id: 'a', text: 'SECRET-TEXT-7' }), message({ message_id: 'b' })]);
  const sumBefore = metricValue(await scrape(svc), 'request_latency_ms_sum') ?? NaN;
  const client = await stream(svc, '', { 'Last-Event-ID': '0', 'X-Request-ID': 'tail-1' });
  await client.waitFor('the replay', (events) => events.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 500));
  client.close();
  await client.ended;
  await withinMs(5_000, 'the log line', (async () => {
    while (!svc.accessLogs().some((l) => l['request_id'] === 'tail-1')) await new Promise((r) => setTimeout(r, 10));
  })());
  const line = svc.accessLogs().find((l) => l['request_id'] === 'tail-1') ?? {};
  assert.equal(line['status'], 200);
  assert.equal(line['stream_end'], 'client_closed');
  assert.equal(line['events'], 2);
  assert.equal(line['replayed'], 2);
  assert.ok(Number(line['duration_ms']) >= 500);
  assert.ok(Number(line['latency_ms']) < Number(line['duration_ms']));
  assert.ok(Number(line['bytes']) > 100);
  assert.ok(!svc.rawLog().includes('SECRET-TEXT-7'), 'message text is never logged');
  // The latency histogram got the stream's time to head (and the first scrape's), not the 500 ms it was open.
  const sumAfter = metricValue(await scrape(svc), 'request_latency_ms_sum') ?? NaN;
  assert.ok(sumAfter - sumBefore < Number(line['duration_ms']), `histogram sum grew by ${sumAfter - sumBefore} ms`);
});

test('a stream whose first read was still running when shutdown began ends as soon as it starts', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { store } = await openWorkerStore({ path: join(dir, 'gate.db'), now: () => new Date() });
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reading = (): void => {};
  const started = new Promise<void>((resolve) => (reading = resolve));
  const gated = { ...store, replay: async (...args: Parameters<typeof store.replay>) => (reading(), await gate, store.replay(...args)) };
  const svc = await freshService(t, { store: gated });
  const pending = stream(svc);
  await started;
  const stopping = svc.shutdown('test');
  release();
  const client = await pending;
  assert.equal(client.status, 200);
  assert.equal(await withinMs(3_000, 'the stream to end', client.ended), true);
  await withinMs(3_000, 'shutdown', stopping);
  assert.equal(svc.accessLogs().find((l) => l['path'] === '/messages/stream')?.['stream_end'], 'shutdown');
});

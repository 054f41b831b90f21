// /webhook/whatsapp over the real socket, with payloads shaped like Meta's published examples and
// signed the way Meta signs them (X-Hub-Signature-256 over the raw, \u-escaped bytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { connect } from 'node:net';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, freshService, SECRET, tempDir, type LogLine, type TestService, type TestServiceOptions } from '../helpers/service.ts';
import { envelope, imageMessage, listReplyMessage, messagesChange, metaJson, metaSignature, statusUpdate, textMessage, WA_SECRET, WA_VERIFY_TOKEN } from '../helpers/whatsapp.ts';

const WA_ENV = { WHATSAPP_APP_SECRET: WA_SECRET, WHATSAPP_VERIFY_TOKEN: WA_VERIFY_TOKEN };

type AfterHook = { after(fn: () => unknown): void };
const waService = (t: AfterHook, options: TestServiceOptions = {}): Promise<TestService> => freshService(t, { ...options, env: { ...WA_ENV, ...options.env } });

function postWa(svc: TestService, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${svc.url}/webhook/whatsapp`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
}
/** Signed as Meta signs: the exact bytes sent. */
function deliverWa(svc: TestService, payload: unknown, requestId?: string): Promise<Response> {
  const body = metaJson(payload);
  return postWa(svc, body, { 'X-Hub-Signature-256': metaSignature(body), ...(requestId !== undefined && { 'X-Request-ID': requestId }) });
}
async function answer(res: Response): Promise<{ status: number; body: unknown }> {
  return { status: res.status, body: await bodyOf(res) };
}
function lineFor(svc: TestService, requestId: string): LogLine {
  const lines = svc.accessLogs().filter((l) => l['request_id'] === requestId);
  assert.equal(lines.length, 1, `one access line for ${requestId}`);
  return lines[0] as LogLine;
}
async function stored(svc: TestService): Promise<{ message_id: string; from: string; to: string; ts: string; text: string | null }[]> {
  const out = [];
  for (let offset = 0; ; offset += 100) {
    const page = await bodyOf(await svc.get(`/messages?limit=100&offset=${offset}`));
    out.push(...page.data);
    if (out.length >= page.total) return out;
  }
}
const OK = { status: 200, body: { status: 'ok' } };

// ---------------------------------------------------------------- handshake

test('the handshake: subscribe with the token → 200 text/plain, body exactly the challenge; HEAD too', async (t) => {
  const svc = await waService(t);
  const res = await svc.get(`/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${WA_VERIFY_TOKEN}`, { headers: { 'X-Request-ID': 'hs-1' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(await res.text(), '1158201444');
  assert.equal(res.headers.get('x-request-id'), 'hs-1');
  const head = await svc.get(`/webhook/whatsapp?hub.mode=subscribe&hub.challenge=abc&hub.verify_token=${WA_VERIFY_TOKEN}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '3');
  const line = lineFor(svc, 'hs-1');
  assert.deepEqual([line['path'], line['status'], line['result']], ['/webhook/whatsapp', 200, 'verified']);
  assert.ok(!svc.rawLog().includes(WA_VERIFY_TOKEN), 'the token is never logged');
});

test('the handshake: wrong token or mode → 403; a bad challenge with the right token → 400', async (t) => {
  const svc = await waService(t);
  const forbidden = { status: 403, body: { detail: 'verification failed' } };
  for (const query of ['hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong', 'hub.mode=subscribe&hub.challenge=1', `hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=${WA_VERIFY_TOKEN}`, '', 'hub.mode=subscribe&hub.challenge=<x>&hub.verify_token=wrong']) {
    const res = await svc.get(`/webhook/whatsapp?${query}`);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await answer(res), forbidden, query);
  }
  for (const challenge of ['', 'a'.repeat(129), '%3Cscript%3E', 'a%20b', '%C3%A9']) {
    const res = await svc.get(`/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=${WA_VERIFY_TOKEN}&hub.challenge=${challenge}`);
    assert.deepEqual(await answer(res), { status: 400, body: { detail: 'invalid hub.challenge' } }, challenge);
  }
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook/whatsapp",status="403"}'), 5);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook/whatsapp",status="400"}'), 5);
});

test('the handshake without WHATSAPP_VERIFY_TOKEN is always 403', async (t) => {
  const svc = await freshService(t, { env: { WHATSAPP_APP_SECRET: WA_SECRET } });
  for (const token of ['', 'anything', 'undefined', 'null']) {
    assert.deepEqual(await answer(await svc.get(`/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=${token}`)), { status: 403, body: { detail: 'verification failed' } });
  }
  const wrongMethod = await fetch(`${svc.url}/webhook/whatsapp`, { method: 'PUT' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'GET, POST, HEAD');
  await wrongMethod.body?.cancel();
});

// ---------------------------------------------------------------- POST

test('a text message as Meta sends it (escaped Unicode) is stored and the answer is 200 {"status":"ok"} after the commit', async (t) => {
  const svc = await waService(t);
  const text = 'Does it come in another colour? Café ✓ 👍 50/50';
  const m = textMessage(text);
  const payload = envelope([messagesChange([m])]);
  const body = metaJson(payload);
  assert.ok(body.includes('Caf\\u00e9') && body.includes('50\\/50'));
  const res = await postWa(svc, body, { 'X-Hub-Signature-256': metaSignature(body), 'X-Request-ID': 'wa-1' });
  assert.deepEqual(await answer(res), OK);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await stored(svc), [{ message_id: m['id'], from: '+16505551234', to: '+15550783881', ts: '2025-06-08T20:59:43Z', text }]);
  const line = lineFor(svc, 'wa-1');
  assert.deepEqual(Object.keys(line), ['ts', 'level', 'request_id', 'method', 'path', 'status', 'latency_ms', 'result', 'messages', 'created', 'duplicates', 'skipped', 'statuses']);
  assert.deepEqual([line['result'], line['messages'], line['created'], line['duplicates'], line['skipped'], line['statuses']], ['ok', 1, 1, 0, 0, 0]);
  // Re-serialising the payload (unescaped) with the old signature fails: the raw bytes are signed.
  assert.deepEqual(await answer(await postWa(svc, JSON.stringify(payload), { 'X-Hub-Signature-256': metaSignature(body) })), { status: 401, body: { detail: 'invalid signature' } });
  const raw = svc.rawLog();
  assert.ok(!raw.includes('another colour') && !raw.includes(WA_SECRET) && !raw.includes(metaSignature(body).slice(7)));
});

test('an envelope of 50 messages with 3 bad ones: 47 stored, 200, counted; the 3 logged with wamid and reason, never their text', async (t) => {
  const svc = await waService(t);
  const texts = Array.from({ length: 50 }, (_, i) => `BATCH-TEXT-${i}`);
  const messages: Record<string, unknown>[] = texts.map((text, i) => (i % 10 === 3 ? imageMessage(text) : i % 10 === 7 ? listReplyMessage(text) : textMessage(text)));
  messages[5] = { ...messages[5], from: 'not-a-number' };
  messages[20] = { ...messages[20], timestamp: 'yesterday' };
  delete messages[41]?.['id'];
  const half = 25;
  const payload = envelope([messagesChange(messages.slice(0, half))], [messagesChange(messages.slice(half), { statuses: [statusUpdate('delivered'), statusUpdate('read')] })]);
  assert.deepEqual(await answer(await deliverWa(svc, payload, 'wa-50')), OK);

  const rows = await stored(svc);
  assert.equal(rows.length, 47);
  const good = messages.filter((_, i) => i !== 5 && i !== 20 && i !== 41);
  assert.deepEqual(new Set(rows.map((r) => r.message_id)), new Set(good.map((m) => m['id'])));
  assert.equal(rows.find((r) => r.message_id === messages[3]?.['id'])?.text, 'BATCH-TEXT-3', 'image caption');
  assert.equal(rows.find((r) => r.message_id === messages[7]?.['id'])?.text, 'BATCH-TEXT-7', 'list reply title');

  const line = lineFor(svc, 'wa-50');
  assert.deepEqual([line['status'], line['messages'], line['created'], line['duplicates'], line['skipped'], line['statuses']], [200, 50, 47, 0, 3, 2]);
  const skipped = svc.logs.filter((l) => l['msg'] === 'whatsapp message skipped');
  assert.deepEqual(skipped.map((l) => [l['request_id'], l['wamid'], l['level']]), [['wa-50', messages[5]?.['id'], 'warn'], ['wa-50', messages[20]?.['id'], 'warn'], ['wa-50', null, 'warn']]);
  assert.deepEqual(skipped.map((l) => l['reason']), ['from: string_pattern_mismatch', 'timestamp is not Unix seconds', 'id missing']);
  assert.ok(!svc.rawLog().includes('BATCH-TEXT'), 'a message text in the log');

  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'whatsapp_messages_total{result="created"}'), 47);
  assert.equal(metricValue(metrics, 'whatsapp_messages_total{result="skipped"}'), 3);
  assert.equal(metricValue(metrics, 'whatsapp_messages_total{result="duplicate"}'), 0);
  assert.equal(metricValue(metrics, 'whatsapp_statuses_total{status="delivered"}'), 1);
  assert.equal(metricValue(metrics, 'whatsapp_statuses_total{status="read"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook/whatsapp",status="200"}'), 1);

  // Meta retries the same envelope: 200, duplicates, nothing changes.
  assert.deepEqual(await answer(await deliverWa(svc, payload, 'wa-50-again')), OK);
  assert.deepEqual([lineFor(svc, 'wa-50-again')['created'], lineFor(svc, 'wa-50-again')['duplicates']], [0, 47]);
  assert.deepEqual(await stored(svc), rows);
  assert.equal(metricValue(await scrape(svc), 'whatsapp_messages_total{result="duplicate"}'), 47);
});

test('statuses-only callbacks and unknown fields: 200, nothing stored, statuses counted', async (t) => {
  const svc = await waService(t);
  const statuses = ['sent', 'delivered', 'read', 'failed', 'deleted'].map(statusUpdate);
  assert.deepEqual(await answer(await deliverWa(svc, envelope([messagesChange([], { statuses })]))), OK);
  assert.deepEqual(await answer(await deliverWa(svc, envelope([{ field: 'account_update', value: { phone_number: '15550783881', event: 'VERIFIED_ACCOUNT' } }]))), OK);
  assert.deepEqual(await answer(await deliverWa(svc, { object: 'whatsapp_business_account', entry: [] })), OK);
  assert.deepEqual(await stored(svc), []);
  const metrics = await scrape(svc);
  for (const s of ['sent', 'delivered', 'read', 'failed', 'other']) assert.equal(metricValue(metrics, `whatsapp_statuses_total{status="${s}"}`), 1, s);
});

test('concurrent deliveries of one wamid: all 200, one row', async (t) => {
  const svc = await waService(t);
  const m = textMessage('only once');
  const payloads = Array.from({ length: 20 }, (_, i) => envelope([messagesChange([{ ...m, text: { body: `copy ${i}` } }])]));
  const answers = await Promise.all(payloads.map(async (p) => answer(await deliverWa(svc, p))));
  assert.deepEqual(answers, answers.map(() => OK));
  const rows = await stored(svc);
  assert.equal(rows.length, 1);
  assert.match(rows[0]?.text ?? '', /^copy \d+$/);
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'whatsapp_messages_total{result="created"}'), 1);
  assert.equal(metricValue(metrics, 'whatsapp_messages_total{result="duplicate"}'), 19);
});

test('unsigned, badly signed or otherwise signed envelopes are 401 and store nothing', async (t) => {
  const svc = await waService(t);
  const body = metaJson(envelope([messagesChange([textMessage('never stored')])]));
  const cases: Record<string, Record<string, string>> = {
    unsigned: {},
    'wrong secret': { 'X-Hub-Signature-256': metaSignature(body, 'another-secret') },
    'WEBHOOK_SECRET instead of the app secret': { 'X-Hub-Signature-256': metaSignature(body, SECRET) },
    'no prefix': { 'X-Hub-Signature-256': metaSignature(body).slice(7) },
    'sha1 form': { 'X-Hub-Signature': `sha1=${'0'.repeat(40)}` },
    'X-Signature': { 'X-Signature': metaSignature(body).slice(7) },
    'empty': { 'X-Hub-Signature-256': '' },
    'truncated': { 'X-Hub-Signature-256': metaSignature(body).slice(0, -1) },
  };
  for (const [name, headers] of Object.entries(cases)) {
    assert.deepEqual(await answer(await postWa(svc, body, headers)), { status: 401, body: { detail: 'invalid signature' } }, name);
  }
  assert.deepEqual(await answer(await postWa(svc, `${body} `, { 'X-Hub-Signature-256': metaSignature(body) })), { status: 401, body: { detail: 'invalid signature' } });
  assert.deepEqual(await stored(svc), []);
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'whatsapp_messages_total{result="created"}'), 0);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="invalid_signature"}'), 0, 'the /webhook counters are its own');
});

test('without WHATSAPP_APP_SECRET: POST is 503 "webhook secret not configured", readiness unaffected', async (t) => {
  const svc = await freshService(t);
  const body = metaJson(envelope([messagesChange([textMessage('x')])]));
  const res = await postWa(svc, body, { 'X-Hub-Signature-256': metaSignature(body) });
  assert.deepEqual(await answer(res), { status: 503, body: { detail: 'webhook secret not configured' } });
  assert.deepEqual(await answer(await svc.get('/health/ready')), { status: 200, body: { status: 'ready' } });
  assert.deepEqual(await stored(svc), []);
});

test('the body must be a JSON object with object "whatsapp_business_account" and an entry list → else 422', async (t) => {
  const svc = await waService(t);
  const cases: [string, unknown][] = [
    ['{"object":', [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]],
    ['[]', [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }]],
    ['{"object":"page","entry":[]}', [{ loc: ['body', 'object'], msg: "Input should be 'whatsapp_business_account'", type: 'literal_error' }]],
    ['{"object":"whatsapp_business_account"}', [{ loc: ['body', 'entry'], msg: 'Input should be a valid list', type: 'list_type' }]],
  ];
  for (const [body, detail] of cases) {
    assert.deepEqual(await answer(await postWa(svc, body, { 'X-Hub-Signature-256': metaSignature(body) })), { status: 422, body: { detail } }, body);
  }
  const invalidUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
  assert.equal((await postWa(svc, invalidUtf8, { 'X-Hub-Signature-256': metaSignature(invalidUtf8) })).status, 422);
});

test('the route has its own body limit: over MAX_BODY_BYTES is fine, over WHATSAPP_MAX_BODY_BYTES is 413', async (t) => {
  const svc = await waService(t, { env: { MAX_BODY_BYTES: '1024', WHATSAPP_MAX_BODY_BYTES: '300000' } });
  const messages = Array.from({ length: 600 }, (_, i) => textMessage(`bulk ${i} ${'x'.repeat(300)}`));
  const payload = envelope([messagesChange(messages)]);
  const body = metaJson(payload);
  assert.ok(body.length > 200_000 && body.length < 300_000, String(body.length));
  assert.deepEqual(await answer(await postWa(svc, body, { 'X-Hub-Signature-256': metaSignature(body) })), OK);
  assert.equal((await stored(svc)).length, 600, 'more than one writer batch (512), in one request');
  const big = `${body}${' '.repeat(300_001 - body.length)}`;
  assert.deepEqual(await answer(await postWa(svc, big, { 'X-Hub-Signature-256': metaSignature(big) })), { status: 413, body: { detail: 'payload too large' } });
  // Streamed without Content-Length, counted as it arrives.
  const stream = new ReadableStream({ start(c) { c.enqueue(Buffer.from(big)); c.close(); } });
  const res = await fetch(`${svc.url}/webhook/whatsapp`, { method: 'POST', body: stream, duplex: 'half', headers: { 'X-Hub-Signature-256': metaSignature(big) } } as RequestInit);
  assert.deepEqual(await answer(res), { status: 413, body: { detail: 'payload too large' } });
});

test('bodies in progress beyond the byte budget get a fast 503 "server busy" + Retry-After; the held one completes', async (t) => {
  const svc = await waService(t, { whatsappBodyBudgetBytes: 10_000, env: { WHATSAPP_MAX_BODY_BYTES: '10000' } });
  const body = metaJson(envelope([messagesChange([textMessage('held')])]));
  // A client that declares 9,000 bytes and sends only the head: its reservation is held.
  const socket = connect(svc.port, '127.0.0.1');
  t.after(() => socket.destroy());
  const padded = `${body}${' '.repeat(9000 - body.length)}`;
  await new Promise<void>((resolve) => socket.write(`POST /webhook/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${metaSignature(padded)}\r\nContent-Length: 9000\r\n\r\n${padded.slice(0, 100)}`, () => resolve()));
  let busy: Response | undefined;
  for (let i = 0; i < 50 && busy?.status !== 503; i += 1) {
    await busy?.body?.cancel();
    const small = metaJson(envelope([messagesChange([textMessage(`other ${i}`)])]));
    busy = await postWa(svc, `${small}${' '.repeat(2000)}`, { 'X-Hub-Signature-256': metaSignature(`${small}${' '.repeat(2000)}`) });
  }
  assert.equal(busy?.status, 503);
  assert.equal(busy?.headers.get('retry-after'), '1');
  assert.deepEqual(await busy?.json(), { detail: 'server busy' });
  const reply = new Promise<string>((resolve) => {
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (data.includes('{"status":"ok"}')) resolve(data);
    });
  });
  socket.write(padded.slice(100));
  assert.match(await reply, /^HTTP\/1.1 200 /);
  assert.ok((await stored(svc)).some((r) => r.text === 'held'));
});

test('a storage failure (lock held too long) is 503 for the whole POST, nothing is stored, and the retry stores everything', async (t) => {
  const svc = await waService(t, { busyTimeoutMs: 50 });
  const payload = envelope([messagesChange(Array.from({ length: 50 }, (_, i) => textMessage(`locked ${i}`)))]);
  const other = new DatabaseSync(svc.dbPath);
  t.after(() => other.isOpen && other.close());
  other.exec('BEGIN EXCLUSIVE');
  const refused = await deliverWa(svc, payload, 'wa-locked');
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.deepEqual(await answer(refused), { status: 503, body: { detail: 'storage unavailable' } });
  other.exec('ROLLBACK');
  assert.deepEqual(await stored(svc), []);
  assert.equal(lineFor(svc, 'wa-locked')['level'], 'error');
  assert.equal(metricValue(await scrape(svc), 'whatsapp_messages_total{result="created"}'), 0, 'a refused POST is not counted');
  assert.deepEqual(await answer(await deliverWa(svc, payload)), OK);
  assert.equal((await stored(svc)).length, 50);
  assert.equal(metricValue(await scrape(svc), 'whatsapp_messages_total{result="created"}'), 50);
});

test('a disk that fills up mid-envelope: 503 and nothing of the envelope stored (one transaction); once space returns, the retry stores it all', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'full.db');
  const limit = 400;
  const { store } = await openWorkerStore({ path: dbPath, now: () => new Date(), maxPageCount: limit });
  const svc = await waService(t, { store, dbPath });
  const other = new DatabaseSync(dbPath);
  t.after(() => other.isOpen && other.close());
  other.exec('CREATE TABLE ballast (b BLOB)');
  const fill = other.prepare('INSERT INTO ballast VALUES (randomblob(3000))');
  const pages = (): number => Number(other.prepare('PRAGMA page_count').get()?.['page_count']);
  while (pages() < limit - 60) fill.run();

  const messages = Array.from({ length: 50 }, (_, i) => textMessage(`FULL-${i}-`.padEnd(4000, 'é')));
  const payload = envelope([messagesChange(messages)]);
  assert.deepEqual(await answer(await deliverWa(svc, payload)), { status: 503, body: { detail: 'storage unavailable' } });
  // Retried row by row, the first ones would fit and commit without the rest.
  assert.deepEqual(await stored(svc), [], 'part of the envelope was committed');

  other.exec('DROP TABLE ballast');
  other.exec('VACUUM');
  assert.deepEqual(await answer(await deliverWa(svc, payload, 'wa-retry')), OK);
  const rows = await stored(svc);
  assert.deepEqual(new Set(rows.map((r) => r.message_id)), new Set(messages.map((m) => m['id'])));
  assert.deepEqual([lineFor(svc, 'wa-retry')['created'], lineFor(svc, 'wa-retry')['duplicates']], [50, 0]);
});

test('every WhatsApp metric series exists from start at 0', async (t) => {
  const svc = await waService(t);
  const metrics = await scrape(svc);
  for (const r of ['created', 'duplicate', 'skipped']) assert.equal(metricValue(metrics, `whatsapp_messages_total{result="${r}"}`), 0, r);
  for (const s of ['sent', 'delivered', 'read', 'failed', 'other']) assert.equal(metricValue(metrics, `whatsapp_statuses_total{status="${s}"}`), 0, s);
});

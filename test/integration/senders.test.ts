// POST /webhook signed by each scheme of SPEC.md's "Senders' signature schemes", over the real
// socket: Standard Webhooks (webhook-* and svix-*), X-Signature and X-Hub-Signature-256; key
// rotation; the replay window; the metric that shows which key is still used; the log fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../src/app.ts';
import { standardKeyBytes } from '../../src/webhook/schemes/keys.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { bodyOf, freshService, message, type LogLine, type TestService } from '../helpers/service.ts';

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const VECTOR_TS = 1614265330;

/** A clock the test moves; monotonic time stays real so latencies are sane. */
function movableClock(seconds: number): Clock & { set(s: number): void } {
  let nowMs = seconds * 1000;
  return { now: () => new Date(nowMs), monotonicMs: () => performance.now(), set: (s) => void (nowMs = s * 1000) };
}

function standardHeaders(secret: string, id: string, ts: number, body: string, prefix = 'webhook-'): Record<string, string> {
  const key = standardKeyBytes(secret);
  assert.ok(key !== null);
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return { [`${prefix}id`]: id, [`${prefix}timestamp`]: String(ts), [`${prefix}signature`]: `v1,${sig}` };
}
const hex = (secret: string, body: string): string => createHmac('sha256', secret).update(body).digest('hex');

function lineFor(svc: TestService, requestId: string): LogLine {
  const lines = svc.accessLogs().filter((l) => l['request_id'] === requestId);
  assert.equal(lines.length, 1, `one access line for ${requestId}`);
  return lines[0] as LogLine;
}

async function send(svc: TestService, body: string, headers: Record<string, string>, requestId?: string): Promise<{ status: number; body: unknown }> {
  const res = await svc.post(body, { ...headers, ...(requestId !== undefined && { 'X-Request-ID': requestId }) });
  return { status: res.status, body: await bodyOf(res) };
}

async function storedIds(svc: TestService): Promise<string[]> {
  const list = await bodyOf(await svc.get('/messages?limit=100'));
  return list.data.map((r: { message_id: string }) => r.message_id);
}

const verified = (text: string, scheme: string, key: string): number | undefined => metricValue(text, `webhook_signatures_verified_total{scheme="${scheme}",key="${key}"}`);

test('every scheme × key combination, and stale_timestamp, are exported from start at 0', async (t) => {
  const svc = await freshService(t);
  const text = await scrape(svc);
  for (const scheme of ['standard', 'x_signature', 'hub']) {
    for (const key of ['current', 'previous_1', 'previous_2', 'previous_3', 'previous_4', 'previous_5']) assert.equal(verified(text, scheme, key), 0, `${scheme} ${key}`);
  }
  assert.equal([...text.matchAll(/^webhook_signatures_verified_total\{/gm)].length, 18);
  assert.equal(metricValue(text, 'webhook_requests_total{result="stale_timestamp"}'), 0);
});

test('the Standard Webhooks test vector is verified over the socket (then refused as not a message)', async (t) => {
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: WHSEC }, clock: movableClock(VECTOR_TS) });
  const headers = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': String(VECTOR_TS), 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
  const res = await send(svc, '{"test": 2432232314}', headers, 'vector-1');
  assert.equal(res.status, 422, 'the signature passed; the body is not a message');
  const line = lineFor(svc, 'vector-1');
  assert.equal(line['scheme'], 'standard');
  assert.equal(line['key'], 'current');
  assert.equal(line['delivery_id'], 'msg_p5jXN8AQM9LWM0D4loKWxJek');
  assert.equal(line['result'], 'validation_error');
  assert.equal(verified(await scrape(svc), 'standard', 'current'), 1);
  // One byte of the body changed: 401.
  assert.deepEqual(await send(svc, '{"test": 2432232315}', headers), { status: 401, body: { detail: 'invalid signature' } });
});

test('Standard Webhooks: a signed message is stored, with webhook-* or svix-* headers; the line has scheme, key and delivery_id', async (t) => {
  const now = 1_750_000_000;
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: WHSEC }, clock: movableClock(now) });
  const a = JSON.stringify(message());
  const b = JSON.stringify(message());
  assert.deepEqual(await send(svc, a, standardHeaders(WHSEC, 'msg_a', now, a), 'sw-a'), { status: 200, body: { status: 'ok' } });
  assert.deepEqual(await send(svc, b, standardHeaders(WHSEC, 'msg_b', now - 10, b, 'svix-'), 'sw-b'), { status: 200, body: { status: 'ok' } });
  assert.equal((await storedIds(svc)).length, 2);
  const line = lineFor(svc, 'sw-a');
  assert.deepEqual(Object.keys(line), ['ts', 'level', 'request_id', 'method', 'path', 'status', 'latency_ms', 'message_id', 'dup', 'result', 'scheme', 'key', 'delivery_id']);
  assert.deepEqual([line['scheme'], line['key'], line['delivery_id'], line['result']], ['standard', 'current', 'msg_a', 'created']);
  assert.equal(lineFor(svc, 'sw-b')['delivery_id'], 'msg_b');
  assert.equal(verified(await scrape(svc), 'standard', 'current'), 2);
  // Several signatures (a sender mid-rotation signs with both keys): any v1 match passes.
  const c = JSON.stringify(message());
  const both = standardHeaders(WHSEC, 'msg_c', now, c);
  both['webhook-signature'] = `v1,${Buffer.alloc(32, 9).toString('base64')} v2,xyz ${both['webhook-signature']}`;
  assert.equal((await send(svc, c, both)).status, 200);
});

test('a replayed Standard Webhooks delivery after the window is refused: 401 "timestamp outside tolerance", counted stale_timestamp', async (t) => {
  const sent = 1_750_000_000;
  const clock = movableClock(sent);
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: WHSEC, WEBHOOK_TOLERANCE_SECONDS: '60' }, clock });
  const body = JSON.stringify(message());
  const headers = standardHeaders(WHSEC, 'msg_replay', sent, body);
  assert.equal((await send(svc, body, headers)).status, 200);
  clock.set(sent + 60);
  assert.equal((await send(svc, body, headers)).status, 200, 'a retry inside the window is a duplicate, 200');
  clock.set(sent + 61);
  assert.deepEqual(await send(svc, body, headers, 'replay-late'), { status: 401, body: { detail: 'timestamp outside tolerance' } });
  // A sender clock 61 s ahead is outside too.
  const ahead = JSON.stringify(message());
  clock.set(sent);
  assert.deepEqual(await send(svc, ahead, standardHeaders(WHSEC, 'msg_ahead', sent + 61, ahead)), { status: 401, body: { detail: 'timestamp outside tolerance' } });
  assert.equal((await storedIds(svc)).length, 1, 'nothing new was stored');

  const line = lineFor(svc, 'replay-late');
  assert.deepEqual([line['status'], line['level'], line['result'], line['scheme'], line['delivery_id'], line['key']], [401, 'warn', 'stale_timestamp', 'standard', 'msg_replay', undefined]);
  const text = await scrape(svc);
  assert.equal(metricValue(text, 'webhook_requests_total{result="stale_timestamp"}'), 2);
  assert.equal(metricValue(text, 'webhook_requests_total{result="invalid_signature"}'), 0);
});

test('key rotation: deliveries signed with a previous key are accepted and counted under its position', async (t) => {
  const oldWhsec = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
  const now = 1_750_000_000;
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: 'new-secret', WEBHOOK_SECRET_PREVIOUS: `old-secret ${oldWhsec}` }, clock: movableClock(now) });
  const bodies = Array.from({ length: 6 }, () => JSON.stringify(message()));
  const results = [
    await send(svc, bodies[0] ?? '', { 'X-Signature': hex('old-secret', bodies[0] ?? '') }, 'rot-1'),
    await send(svc, bodies[1] ?? '', { 'X-Signature': hex('new-secret', bodies[1] ?? '') }, 'rot-2'),
    await send(svc, bodies[2] ?? '', { 'X-Hub-Signature-256': `sha256=${hex('old-secret', bodies[2] ?? '')}` }, 'rot-3'),
    await send(svc, bodies[3] ?? '', standardHeaders(oldWhsec, 'msg_old', now, bodies[3] ?? ''), 'rot-4'),
    await send(svc, bodies[4] ?? '', { 'X-Signature': hex(oldWhsec, bodies[4] ?? '') }, 'rot-5'),
    await send(svc, bodies[5] ?? '', { 'X-Signature': hex('retired-secret', bodies[5] ?? '') }, 'rot-6'),
  ];
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 401]);
  assert.deepEqual(['rot-1', 'rot-2', 'rot-3', 'rot-4', 'rot-5'].map((id) => [lineFor(svc, id)['scheme'], lineFor(svc, id)['key']]), [
    ['x_signature', 'previous_1'],
    ['x_signature', 'current'],
    ['hub', 'previous_1'],
    ['standard', 'previous_2'],
    ['x_signature', 'previous_2'],
  ]);
  const text = await scrape(svc);
  assert.equal(verified(text, 'x_signature', 'previous_1'), 1);
  assert.equal(verified(text, 'x_signature', 'previous_2'), 1);
  assert.equal(verified(text, 'x_signature', 'current'), 1);
  assert.equal(verified(text, 'hub', 'previous_1'), 1);
  assert.equal(verified(text, 'standard', 'previous_2'), 1);
  assert.equal(verified(text, 'standard', 'current'), 0);
  assert.equal((await storedIds(svc)).length, 5);
});

test('GitHub-style X-Hub-Signature-256 deliveries are stored; a wrong one is 401', async (t) => {
  const svc = await freshService(t);
  const body = JSON.stringify(message());
  assert.deepEqual(await send(svc, body, { 'X-Hub-Signature-256': `sha256=${hex('test-secret', body)}` }, 'hub-1'), { status: 200, body: { status: 'ok' } });
  assert.deepEqual([lineFor(svc, 'hub-1')['scheme'], lineFor(svc, 'hub-1')['key']], ['hub', 'current']);
  for (const value of [hex('test-secret', body), `sha256=${hex('other', body)}`, `sha1=${hex('test-secret', body).slice(0, 40)}`, 'sha256=']) {
    assert.deepEqual(await send(svc, body, { 'X-Hub-Signature-256': value }), { status: 401, body: { detail: 'invalid signature' } }, value);
  }
  assert.equal((await storedIds(svc)).length, 1);
});

test('the first scheme present decides: a broken Standard Webhooks signature is 401 even beside a valid X-Signature', async (t) => {
  const svc = await freshService(t);
  const body = JSON.stringify(message());
  const good = hex('test-secret', body);
  assert.deepEqual(await send(svc, body, { 'webhook-id': 'msg_1', 'X-Signature': good }, 'mix-1'), { status: 401, body: { detail: 'invalid signature' } });
  assert.equal(lineFor(svc, 'mix-1')['scheme'], 'standard');
  assert.deepEqual(await send(svc, body, { 'X-Signature': 'bad', 'X-Hub-Signature-256': `sha256=${good}` }), { status: 401, body: { detail: 'invalid signature' } });
  assert.deepEqual(await storedIds(svc), []);
  assert.equal(metricValue(await scrape(svc), 'webhook_requests_total{result="invalid_signature"}'), 2);
});

test('hostile Standard Webhooks headers over a raw socket: 401, nothing stored, no signature in the log', async (t) => {
  const now = 1_750_000_000;
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: WHSEC }, clock: movableClock(now) });
  // A body whose signature has a "+" or "/", so its URL-safe form differs.
  let body = JSON.stringify(message());
  while (!/[+/]/.test(standardHeaders(WHSEC, 'msg_h', now, body)['webhook-signature'] ?? '')) body = JSON.stringify(message());
  const sig = standardHeaders(WHSEC, 'msg_h', now, body)['webhook-signature'] ?? '';
  const variants: [string, string][] = [
    ['non-ASCII signature', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: ${sig.slice(0, 30)}é€${sig.slice(32)}\r\n`],
    ['empty v1', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: v1,\r\n`],
    ['repeated id', `webhook-id: msg_h\r\nwebhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: ${sig}\r\n`],
    ['repeated signature', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: v1,AAAA\r\nwebhook-signature: ${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'E' : 'A'}=\r\n`],
    ['repeated timestamp', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: ${sig}\r\n`],
    ['13-digit timestamp', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}000\r\nwebhook-signature: ${sig}\r\n`],
    ['signed timestamp', `webhook-id: msg_h\r\nwebhook-timestamp: +${now}\r\nwebhook-signature: ${sig}\r\n`],
    ['id with a dot', `webhook-id: msg.h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: ${sig}\r\n`],
    ['8 KiB signature', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: ${'v1,'.repeat(2800)}\r\n`],
    ['URL-safe base64', `webhook-id: msg_h\r\nwebhook-timestamp: ${now}\r\nwebhook-signature: ${sig.replace(/\+/g, '-').replace(/\//g, '_')}\r\n`],
  ];
  for (const [name, headers] of variants) {
    const head = `POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    const res = await rawExchange(svc.port, Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(body)]).toString('latin1'));
    assert.equal(res.status, 401, name);
    assert.deepEqual(JSON.parse(res.body), { detail: 'invalid signature' }, name);
  }
  assert.deepEqual(await storedIds(svc), []);
  const raw = svc.rawLog();
  assert.ok(!raw.includes(sig.slice(3)), 'a signature in the log');
  assert.ok(!raw.includes(WHSEC) && !raw.includes('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), 'the secret in the log');
});

// POST /webhook against the real server: the order of checks, signatures over raw bytes, body
// limits, validation in FastAPI's shape, first-write-wins storage, request ids, logs and metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { bodyOf, message, SECRET, signBody, startTestService, type LogLine, type TestService } from '../helpers/service.ts';

const JSON_TYPE = 'application/json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function webhookCounts(svc: TestService): Promise<Record<string, number | undefined>> {
  const text = await scrape(svc);
  const out: Record<string, number | undefined> = {};
  for (const r of ['created', 'duplicate', 'invalid_signature', 'validation_error', 'payload_too_large', 'unavailable']) {
    out[r] = metricValue(text, `webhook_requests_total{result="${r}"}`);
  }
  return out;
}

/** The access-log line of the request that carried this X-Request-ID. */
function lineFor(svc: TestService, requestId: string): LogLine {
  const lines = svc.accessLogs().filter((l) => l['request_id'] === requestId);
  assert.equal(lines.length, 1, `one access line for ${requestId}`);
  return lines[0] as LogLine;
}

async function listAll(svc: TestService): Promise<{ data: Record<string, unknown>[]; total: number }> {
  const res = await svc.get('/messages?limit=100');
  assert.equal(res.status, 200);
  return bodyOf(res);
}

async function expectError(res: Response, status: number, detail: string): Promise<void> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), JSON_TYPE);
  assert.deepEqual(await bodyOf(res), { detail });
}

/** Asserts a FastAPI-shaped 422 and returns its problems. */
async function expect422(res: Response): Promise<{ loc: unknown[]; msg: string; type: string }[]> {
  assert.equal(res.status, 422);
  assert.equal(res.headers.get('content-type'), JSON_TYPE);
  const body = await bodyOf(res);
  assert.deepEqual(Object.keys(body), ['detail']);
  assert.ok(Array.isArray(body.detail) && body.detail.length > 0, 'detail is a non-empty list');
  for (const item of body.detail) {
    assert.deepEqual(Object.keys(item).sort(), ['loc', 'msg', 'type']);
    assert.ok(Array.isArray(item.loc));
    assert.equal(item.loc[0], 'body');
    assert.equal(typeof item.msg, 'string');
    assert.ok(item.msg.length > 0);
    assert.equal(typeof item.type, 'string');
    assert.ok(item.type.length > 0);
  }
  return body.detail;
}

const locs = (problems: { loc: unknown[] }[]): unknown[][] => problems.map((p) => p.loc);

/** A body of exactly `size` bytes: a valid message padded with trailing whitespace. */
function paddedBody(size: number, overrides: Record<string, unknown> = {}): string {
  const base = JSON.stringify(message({ text: 'x', ...overrides }));
  assert.ok(base.length <= size);
  return base + ' '.repeat(size - Buffer.byteLength(base));
}

// ---------------------------------------------------------------- order of checks

test('an oversized body with a bad signature is 413, not 401', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const res = await svc.post(paddedBody(2000), { 'X-Signature': 'bad' });
  await expectError(res, 413, 'payload too large');
  const counts = await webhookCounts(svc);
  assert.equal(counts['payload_too_large'], 1);
  assert.equal(counts['invalid_signature'], 0);
});

test('a bad signature on invalid JSON is 401, not 422', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  await expectError(await svc.post('{not json', { 'X-Signature': signBody('something else') }), 401, 'invalid signature');
  // …and on a well-formed body that would fail validation
  await expectError(await svc.post('{"message_id":""}', { 'X-Signature': 'a'.repeat(64) }), 401, 'invalid signature');
  // …and without any signature on a non-object
  await expectError(await svc.post('[1,2,3]'), 401, 'invalid signature');
  const counts = await webhookCounts(svc);
  assert.equal(counts['invalid_signature'], 3);
  assert.equal(counts['validation_error'], 0);
});

test('the signature covers the raw bytes: extra whitespace signed is accepted, re-spaced JSON with the old signature is 401', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const m = message({ text: 'spaced' });
  const spaced = `{\n  "message_id" : ${JSON.stringify(m['message_id'])},\n  "from":"${String(m['from'])}",  "to": "${String(m['to'])}",\t"ts": "${String(m['ts'])}", "text": "spaced"  }\n`;
  const signature = signBody(spaced);
  const compact = JSON.stringify(JSON.parse(spaced));
  assert.notEqual(compact, spaced);

  await expectError(await svc.post(compact, { 'X-Signature': signature }), 401, 'invalid signature');
  assert.equal((await listAll(svc)).total, 0);

  const ok = await svc.post(spaced, { 'X-Signature': signature });
  assert.equal(ok.status, 200);
  assert.deepEqual(await bodyOf(ok), { status: 'ok' });
  const list = await listAll(svc);
  assert.deepEqual(list.data, [{ message_id: m['message_id'], from: m['from'], to: m['to'], ts: m['ts'], text: 'spaced' }]);
});

// ---------------------------------------------------------------- size limit

test('413 by Content-Length: a large declared body is refused and nothing is stored', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const body = paddedBody(1025);
  const res = await svc.post(body, { 'X-Signature': signBody(body) });
  await expectError(res, 413, 'payload too large');
  assert.equal((await listAll(svc)).total, 0);
});

test('413 by Content-Length is answered before the body arrives', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  // Declares 5000 bytes but sends only a few: the answer must come from the header alone.
  const res = await rawExchange(
    svc.port,
    `POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Signature: ${'0'.repeat(64)}\r\nContent-Length: 5000\r\n\r\n{"a":`,
  );
  assert.equal(res.status, 413);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.deepEqual(JSON.parse(res.body), { detail: 'payload too large' });
});

test('413 for a streamed (chunked) body counted while reading', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const body = paddedBody(3000);
  const bytes = new TextEncoder().encode(body);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(sent, sent + 500));
      sent += 500;
    },
  });
  const res = await fetch(`${svc.url}/webhook`, {
    method: 'POST',
    body: stream,
    duplex: 'half',
    headers: { 'Content-Type': 'application/json', 'X-Signature': signBody(body) },
  });
  await expectError(res, 413, 'payload too large');
  assert.equal((await listAll(svc)).total, 0);
  const line = svc.accessLogs().find((l) => l['path'] === '/webhook');
  assert.equal(line?.['status'], 413);
  assert.equal(line?.['result'], 'payload_too_large');
});

test('a streamed body under the limit is accepted', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const body = paddedBody(1000);
  const bytes = new TextEncoder().encode(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, 400));
      controller.enqueue(bytes.subarray(400));
      controller.close();
    },
  });
  const res = await fetch(`${svc.url}/webhook`, { method: 'POST', body: stream, duplex: 'half', headers: { 'X-Signature': signBody(body) } });
  assert.equal(res.status, 200);
  assert.deepEqual(await bodyOf(res), { status: 'ok' });
  assert.equal((await listAll(svc)).total, 1);
});

test('a body of exactly MAX_BODY_BYTES is accepted; one byte more is 413', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const exact = paddedBody(1024);
  assert.equal(Buffer.byteLength(exact), 1024);
  const ok = await svc.post(exact, { 'X-Signature': signBody(exact) });
  assert.equal(ok.status, 200);
  assert.deepEqual(await bodyOf(ok), { status: 'ok' });

  const over = paddedBody(1025);
  await expectError(await svc.post(over, { 'X-Signature': signBody(over) }), 413, 'payload too large');
  assert.equal((await listAll(svc)).total, 1);
});

// ---------------------------------------------------------------- signature

test('missing, short, long, non-hex and wrong signatures are 401 {"detail":"invalid signature"}', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const body = JSON.stringify(message());
  const good = signBody(body);
  const cases: Record<string, Record<string, string>> = {
    missing: {},
    empty: { 'X-Signature': '' },
    short: { 'X-Signature': good.slice(0, 63) },
    half: { 'X-Signature': good.slice(0, 32) },
    long: { 'X-Signature': `${good}00` },
    'non-hex': { 'X-Signature': `${good.slice(0, 63)}g` },
    'all non-hex': { 'X-Signature': 'z'.repeat(64) },
    prefixed: { 'X-Signature': `sha256=${good}` },
    'wrong secret': { 'X-Signature': signBody(body, 'another-secret') },
    'other body': { 'X-Signature': signBody(`${body} `) },
    'base64 of the digest': { 'X-Signature': Buffer.from(good, 'hex').toString('base64') },
  };
  for (const [name, headers] of Object.entries(cases)) {
    const res = await svc.post(body, headers);
    assert.equal(res.status, 401, name);
    assert.equal(res.headers.get('content-type'), JSON_TYPE, name);
    assert.deepEqual(await bodyOf(res), { detail: 'invalid signature' }, name);
  }
  assert.equal((await listAll(svc)).total, 0);
  assert.equal((await webhookCounts(svc))['invalid_signature'], Object.keys(cases).length);
});

test('a non-ASCII signature header is 401, not 500', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const body = JSON.stringify(message());
  const sig = `${signBody(body).slice(0, 62)}\u00e9\u00e9`;
  const head = `POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Signature: `;
  const request = Buffer.concat([
    Buffer.from(head, 'latin1'),
    Buffer.from(sig, 'utf8'),
    Buffer.from(`\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1'),
  ]);
  const res = await rawExchange(svc.port, request.toString('latin1'));
  assert.equal(res.status, 401);
  assert.deepEqual(JSON.parse(res.body), { detail: 'invalid signature' });
});

test('an uppercase hex signature is accepted', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const body = JSON.stringify(message());
  const upper = signBody(body).toUpperCase();
  assert.match(upper, /[A-F]/);
  const res = await svc.post(body, { 'X-Signature': upper });
  assert.equal(res.status, 200);
  assert.deepEqual(await bodyOf(res), { status: 'ok' });
  assert.equal((await listAll(svc)).total, 1);
});

test('with WEBHOOK_SECRET empty, POST /webhook is 503 "webhook secret not configured" and stores nothing', async (t) => {
  const svc = await startTestService({ env: { WEBHOOK_SECRET: '' } });
  t.after(() => svc.stop());
  const body = JSON.stringify(message());
  // Signed with the empty key, signed with the test key, and unsigned: none may get in.
  const attempts: Record<string, string>[] = [{ 'X-Signature': signBody(body, '') }, { 'X-Signature': signBody(body) }, {}];
  for (const headers of attempts) {
    await expectError(await svc.post(body, headers), 503, 'webhook secret not configured');
  }
  assert.equal((await listAll(svc)).total, 0);
  const ready = await svc.get('/health/ready');
  assert.equal(ready.status, 503);
  await ready.body?.cancel();
  assert.equal((await webhookCounts(svc))['created'], 0);
});

// ---------------------------------------------------------------- JSON and validation

test('non-object JSON, invalid JSON and invalid UTF-8 are 422 with a detail list', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const bodies: (string | Buffer)[] = [
    '[]',
    '[{"message_id":"x"}]',
    '"a string"',
    '42',
    'null',
    'true',
    '{not json',
    '',
    '{"message_id":"a",}',
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"a":"\xff\xfe"}
    Buffer.concat([Buffer.from('{"message_id":"m1","from":"+1","to":"+2","ts":"2025-01-15T10:00:00Z","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
  ];
  for (const body of bodies) {
    const res = await svc.post(body, { 'X-Signature': signBody(body) });
    const problems = await expect422(res);
    assert.ok(problems.length >= 1, String(body));
  }
  assert.equal((await listAll(svc)).total, 0);
  assert.equal((await webhookCounts(svc))['validation_error'], bodies.length);
});

test('an empty object lists every missing field with loc ["body", field]', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const problems = await expect422(await svc.deliver({}));
  assert.deepEqual(
    locs(problems).map((l) => JSON.stringify(l)).sort(),
    [['body', 'from'], ['body', 'message_id'], ['body', 'to'], ['body', 'ts']].map((l) => JSON.stringify(l)).sort(),
  );
  for (const p of problems) assert.equal(p.type, 'missing');
});

test('all validation problems are reported together', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const problems = await expect422(
    await svc.deliver({ message_id: 7, from: '+91 98765', to: 'nobody', ts: '2025-01-15T10:00:00+00:00', text: 12 }),
  );
  assert.deepEqual(
    locs(problems).map((l) => JSON.stringify(l)).sort(),
    ['from', 'message_id', 'text', 'to', 'ts'].map((f) => JSON.stringify(['body', f])),
  );
});

test('each invalid field value is a 422 naming that field', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const cases: [string, unknown][] = [
    ['message_id', ''],
    ['message_id', 123],
    ['message_id', null],
    ['message_id', ['a']],
    ['from', '919876543210'],
    ['from', '+'],
    ['from', '+1234567890123456'],
    ['from', '+91 9876543210'],
    ['from', '+919876543210\n'],
    ['from', ' +919876543210'],
    ['from', '+91987654321a'],
    ['from', '+٩١٩٨'], // non-ASCII digits
    ['from', 919876543210],
    ['to', ''],
    ['to', '++14155550100'],
    ['ts', '2025-01-15T10:00:00+00:00'],
    ['ts', '2025-01-15T10:00:00z'],
    ['ts', '2025-01-15t10:00:00Z'],
    ['ts', '2025-01-15 10:00:00Z'],
    ['ts', '2025-01-15T10:00Z'],
    ['ts', '2025-01-15T10:00:00'],
    ['ts', '2025-01-15T10:00:00.Z'],
    ['ts', '2025-01-15T10:00:00.1234567890Z'],
    ['ts', '2025-02-30T10:00:00Z'],
    ['ts', '2025-13-01T10:00:00Z'],
    ['ts', '2025-01-15T24:00:00Z'],
    ['ts', '2025-01-15T10:60:00Z'],
    ['ts', '2025-01-15T10:00:60Z'],
    ['ts', '2023-02-29T10:00:00Z'],
    ['ts', ' 2025-01-15T10:00:00Z'],
    ['ts', 1736935200],
    ['ts', '1736935200'],
    ['text', 5],
    ['text', 'lone \ud800 surrogate'],
    ['message_id', '\udc00'],
    ['text', { a: 1 }],
    ['text', 'a'.repeat(4097)],
    ['text', '😀'.repeat(4097)],
  ];
  for (const [field, value] of cases) {
    const problems = await expect422(await svc.deliver(message({ [field]: value })));
    assert.deepEqual(locs(problems), [['body', field]], `${field}=${JSON.stringify(value).slice(0, 40)}`);
  }
  assert.equal((await listAll(svc)).total, 0);
});

test('boundary values that are valid are accepted; unknown fields are ignored', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const good = [
    message({ from: '+1', to: '+123456789012345' }),
    message({ ts: '2025-01-15T10:00:00.123456789Z' }),
    message({ ts: '2024-02-29T23:59:59.5Z' }),
    message({ text: '' }),
    message({ text: 'a'.repeat(4096) }),
    message({ extra: 'ignored', nested: { x: 1 } }),
  ];
  for (const m of good) {
    const res = await svc.deliver(m);
    assert.equal(res.status, 200, JSON.stringify(m).slice(0, 80));
    await res.body?.cancel();
  }
  const list = await listAll(svc);
  assert.equal(list.total, good.length);
  for (const row of list.data) assert.deepEqual(Object.keys(row), ['message_id', 'from', 'to', 'ts', 'text']);
  const ids = new Set(list.data.map((r) => r['message_id']));
  for (const m of good) assert.ok(ids.has(m['message_id']));
  const row = list.data.find((r) => r['message_id'] === good[1]?.['message_id']);
  assert.equal(row?.['ts'], '2025-01-15T10:00:00.123456789Z');
  const empty = list.data.find((r) => r['message_id'] === good[3]?.['message_id']);
  assert.equal(empty?.['text'], '');
});

test('neither a 422 body nor the logs contain the message text', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const secretText = 'PRIVATE-TEXT-Zq9v';
  const bodies = [
    message({ from: 'bad', text: secretText }),
    message({ text: `${secretText}${'x'.repeat(4096)}` }),
    message({ ts: secretText, text: secretText }),
    message({ message_id: '', text: secretText }),
  ];
  for (const b of bodies) {
    const res = await svc.deliver(b);
    assert.equal(res.status, 422);
    const text = await res.text();
    assert.ok(!text.includes(secretText), `422 body leaks text: ${text.slice(0, 200)}`);
  }
  assert.equal(svc.accessLogs().filter((l) => l['path'] === '/webhook' && l['status'] === 422).length, bodies.length);
  assert.ok(!svc.rawLog().includes(secretText));
});

// ---------------------------------------------------------------- storage semantics

test('a duplicate is 200 and the stored row is unchanged (first write wins)', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const first = message({ text: 'first', ts: '2025-01-15T10:00:00Z' });
  const res1 = await svc.deliver(first);
  assert.equal(res1.status, 200);
  assert.deepEqual(await bodyOf(res1), { status: 'ok' });

  const variants = [
    { ...first },
    { ...first, text: 'second' },
    { ...first, text: null },
    { ...first, from: '+15550001111', to: '+15550002222', ts: '2030-06-01T00:00:00Z', text: 'third' },
  ];
  for (const v of variants) {
    const res = await svc.deliver(v);
    assert.equal(res.status, 200);
    assert.deepEqual(await bodyOf(res), { status: 'ok' });
  }
  const list = await listAll(svc);
  assert.equal(list.total, 1);
  assert.deepEqual(list.data, [{ message_id: first['message_id'], from: '+919876543210', to: '+14155550100', ts: '2025-01-15T10:00:00Z', text: 'first' }]);
  const counts = await webhookCounts(svc);
  assert.equal(counts['created'], 1);
  assert.equal(counts['duplicate'], variants.length);
});

test('text absent and text null are both stored as null', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const absent = message({ message_id: 'a-absent', text: undefined });
  assert.ok(!('text' in JSON.parse(JSON.stringify(absent))));
  const nul = message({ message_id: 'b-null', text: null });
  for (const m of [absent, nul]) {
    const res = await svc.deliver(m);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const list = await listAll(svc);
  assert.deepEqual(
    list.data.map((r) => [r['message_id'], r['text']]),
    [['a-absent', null], ['b-null', null]],
  );
  // Messages without text never match a search.
  const search = await bodyOf(await svc.get('/messages?q=null'));
  assert.equal(search.total, 0);
});

test('4096 emoji are accepted and returned intact', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const text = '😀'.repeat(2048) + '👍🏽'.repeat(1024); // 👍🏽 is two code points
  assert.equal([...text].length, 4096);
  const m = message({ text });
  const res = await svc.deliver(m);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const list = await listAll(svc);
  assert.equal(list.total, 1);
  assert.equal(list.data[0]?.['text'], text);
});

// ---------------------------------------------------------------- headers

test('every /webhook response is Content-Type application/json', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const m = message();
  const responses = [
    await svc.deliver(m), // 200 created
    await svc.deliver(m), // 200 duplicate
    await svc.post(JSON.stringify(m), { 'X-Signature': 'nope' }), // 401
    await svc.deliver({ message_id: 1 }), // 422
    await svc.deliver('{bad'), // 422
    await svc.post(paddedBody(2000)), // 413
  ];
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 401, 422, 422, 413]);
  for (const res of responses) {
    assert.equal(res.headers.get('content-type'), JSON_TYPE, String(res.status));
    JSON.parse(await res.text());
  }
});

test('X-Request-ID is echoed when valid and replaced by a UUID when not', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  for (const id of ['abc-123', 'A.b_c:d-9', 'x'.repeat(128), '1']) {
    const res = await svc.deliver(message(), { 'X-Request-ID': id });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(res.headers.get('x-request-id'), id);
    assert.equal(lineFor(svc, id)['request_id'], id);
  }
  const seen = new Set<string>();
  for (const bad of ['x'.repeat(129), 'y'.repeat(200), 'has space', 'semi;colon', 'slash/id', '', 'ünïcode']) {
    const headers: Record<string, string> = bad === 'ünïcode' ? { 'X-Request-ID': Buffer.from(bad, 'utf8').toString('latin1') } : { 'X-Request-ID': bad };
    const res = await svc.deliver(message(), headers);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const echoed = res.headers.get('x-request-id') ?? '';
    assert.match(echoed, UUID, JSON.stringify(bad));
    assert.ok(!seen.has(echoed));
    seen.add(echoed);
    assert.equal(lineFor(svc, echoed)['path'], '/webhook');
  }
  // No header at all → a UUID too.
  const res = await svc.deliver(message());
  await res.body?.cancel();
  assert.match(res.headers.get('x-request-id') ?? '', UUID);
  // Error responses carry it as well.
  const err = await svc.post('{}', { 'X-Request-ID': 'err-1' });
  await err.body?.cancel();
  assert.equal(err.headers.get('x-request-id'), 'err-1');
});

// ---------------------------------------------------------------- logs

// A verified delivery's line adds the scheme and the key that matched (SPEC.md, "Senders' signature schemes").
const ACCESS_KEYS_WITH_ID = ['ts', 'level', 'request_id', 'method', 'path', 'status', 'latency_ms', 'message_id', 'dup', 'result', 'scheme', 'key'];
const ACCESS_KEYS_NO_ID = ['ts', 'level', 'request_id', 'method', 'path', 'status', 'latency_ms', 'dup', 'result'];

function checkCommon(line: LogLine, requestId: string): void {
  assert.equal(typeof line['ts'], 'string');
  assert.match(String(line['ts']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  assert.ok(!Number.isNaN(Date.parse(String(line['ts']))));
  assert.equal(line['request_id'], requestId);
  assert.equal(line['method'], 'POST');
  assert.equal(line['path'], '/webhook');
  assert.equal(typeof line['latency_ms'], 'number');
  assert.ok(Number(line['latency_ms']) >= 0);
}

test('the /webhook access line has exactly the documented fields with correct values', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const m = message();
  const id = String(m['message_id']);

  const created = await svc.deliver(m, { 'X-Request-ID': 'log-created' });
  await created.body?.cancel();
  let line = lineFor(svc, 'log-created');
  assert.deepEqual(Object.keys(line), ACCESS_KEYS_WITH_ID);
  checkCommon(line, 'log-created');
  assert.equal(line['level'], 'info');
  assert.equal(line['status'], 200);
  assert.equal(line['message_id'], id);
  assert.equal(line['dup'], false);
  assert.equal(line['result'], 'created');

  const dup = await svc.deliver({ ...m, text: 'changed' }, { 'X-Request-ID': 'log-dup' });
  await dup.body?.cancel();
  line = lineFor(svc, 'log-dup');
  assert.deepEqual(Object.keys(line), ACCESS_KEYS_WITH_ID);
  checkCommon(line, 'log-dup');
  assert.equal(line['level'], 'info');
  assert.equal(line['status'], 200);
  assert.equal(line['message_id'], id);
  assert.equal(line['dup'], true);
  assert.equal(line['result'], 'duplicate');

  const unsigned = await svc.post(JSON.stringify(message()), { 'X-Request-ID': 'log-401' });
  await unsigned.body?.cancel();
  line = lineFor(svc, 'log-401');
  assert.deepEqual(Object.keys(line), ACCESS_KEYS_NO_ID);
  checkCommon(line, 'log-401');
  assert.equal(line['level'], 'warn');
  assert.equal(line['status'], 401);
  assert.equal(line['dup'], false);
  assert.equal(line['result'], 'invalid_signature');

  const bad = await svc.deliver(message({ ts: 'yesterday' }), { 'X-Request-ID': 'log-422' });
  await bad.body?.cancel();
  line = lineFor(svc, 'log-422');
  checkCommon(line, 'log-422');
  assert.equal(line['level'], 'warn');
  assert.equal(line['status'], 422);
  assert.equal(line['dup'], false);
  assert.equal(line['result'], 'validation_error');

  const big = await svc.post(paddedBody(2000), { 'X-Request-ID': 'log-413' });
  await big.body?.cancel();
  line = lineFor(svc, 'log-413');
  assert.deepEqual(Object.keys(line), ACCESS_KEYS_NO_ID);
  checkCommon(line, 'log-413');
  assert.equal(line['level'], 'warn');
  assert.equal(line['status'], 413);
  assert.equal(line['dup'], false);
  assert.equal(line['result'], 'payload_too_large');
});

test('a 503 /webhook access line is level error', async (t) => {
  const svc = await startTestService({ env: { WEBHOOK_SECRET: '' } });
  t.after(() => svc.stop());
  const res = await svc.deliver(message(), { 'X-Request-ID': 'log-503' });
  await res.body?.cancel();
  assert.equal(res.status, 503);
  const line = lineFor(svc, 'log-503');
  checkCommon(line, 'log-503');
  assert.equal(line['level'], 'error');
  assert.equal(line['status'], 503);
  assert.equal(line['dup'], false);
});

test('the raw log never contains the secret, the X-Signature value or the message text', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  const text = 'TOP-SECRET-MESSAGE-body-81f2';
  const signatures: string[] = [];
  const send = async (body: string, sig: string): Promise<void> => {
    signatures.push(sig);
    const res = await svc.post(body, { 'X-Signature': sig });
    await res.body?.cancel();
  };
  const m = JSON.stringify(message({ text }));
  await send(m, signBody(m)); // 200
  await send(m, signBody(m)); // duplicate
  await send(m, signBody(m).toUpperCase()); // duplicate, uppercase
  await send(m, `${signBody(m).slice(0, 60)}beef`); // 401 wrong
  const invalid = JSON.stringify(message({ text, from: 'x' }));
  await send(invalid, signBody(invalid)); // 422
  const big = paddedBody(1100, { text: `${text} ${'y'.repeat(900)}` });
  await send(big, signBody(big)); // 413

  const raw = svc.rawLog();
  assert.ok(raw.length > 0);
  assert.ok(!raw.includes(SECRET), 'secret in log');
  assert.ok(!raw.includes(text), 'message text in log');
  for (const sig of signatures) {
    assert.ok(!raw.includes(sig), `signature in log: ${sig}`);
    assert.ok(!raw.toLowerCase().includes(sig.toLowerCase()), 'signature (any case) in log');
  }
  assert.equal(svc.accessLogs().filter((l) => l['path'] === '/webhook').length, 6);
});

// ---------------------------------------------------------------- metrics

test('webhook_requests_total counts each outcome', async (t) => {
  const svc = await startTestService({ env: { MAX_BODY_BYTES: '1024' } });
  t.after(() => svc.stop());
  assert.deepEqual(await webhookCounts(svc), {
    created: 0,
    duplicate: 0,
    invalid_signature: 0,
    validation_error: 0,
    payload_too_large: 0,
    unavailable: 0,
  });
  const drain = async (p: Promise<Response>): Promise<number> => {
    const res = await p;
    await res.body?.cancel();
    return res.status;
  };
  const a = message();
  const b = message();
  const statuses = [
    await drain(svc.deliver(a)),
    await drain(svc.deliver(b)),
    await drain(svc.deliver(message())),
    await drain(svc.deliver(a)),
    await drain(svc.deliver({ ...b, text: 'other' })),
    await drain(svc.post(JSON.stringify(message()))),
    await drain(svc.deliver(message({ from: '' }))),
    await drain(svc.deliver('[]')),
    await drain(svc.deliver('{oops')),
    await drain(svc.deliver(message({ ts: 'now' }))),
    await drain(svc.post(paddedBody(1500))),
  ];
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 401, 422, 422, 422, 422, 413]);
  assert.deepEqual(await webhookCounts(svc), {
    created: 3,
    duplicate: 2,
    invalid_signature: 1,
    validation_error: 4,
    payload_too_large: 1,
    unavailable: 0,
  });
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="200"}'), 5);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="422"}'), 4);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="401"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="413"}'), 1);
});

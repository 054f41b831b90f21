// HTTP edges: 404/405 with Allow, HEAD, bounded metric labels for unknown paths, 500 without
// internals, and malformed requests answered with JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/storage/store.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { bodyOf, startTestService } from '../helpers/service.ts';

const JSON_TYPE = 'application/json';
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

test('unknown paths are 404 {"detail":"Not Found"}', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const paths = ['/', '/nope', '/messages/', '/webhook/', '/stats/', '/health', '/health/live/', '/Messages', '/metrics/x', '/messages%2F', '//messages'];
  for (const path of paths) {
    const res = await svc.get(path);
    assert.equal(res.status, 404, path);
    assert.equal(res.headers.get('content-type'), JSON_TYPE, path);
    assert.deepEqual(await bodyOf(res), { detail: 'Not Found' }, path);
  }
  // Unknown path with another method is still 404, not 405.
  const del = await svc.get('/unknown', { method: 'DELETE' });
  assert.equal(del.status, 404);
  assert.deepEqual(await bodyOf(del), { detail: 'Not Found' });
});

test('a known path with the wrong method is 405 with an Allow header', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const allowOf = (h: string | null): string[] => (h ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').sort();
  const cases: [string, string, string[]][] = [
    ['GET', '/webhook', ['POST']],
    ['PUT', '/webhook', ['POST']],
    ['HEAD', '/webhook', ['POST']],
    ['DELETE', '/messages', ['GET', 'HEAD']],
    ['POST', '/messages', ['GET', 'HEAD']],
    ['PATCH', '/stats', ['GET', 'HEAD']],
    ['POST', '/health/live', ['GET', 'HEAD']],
    ['POST', '/health/ready', ['GET', 'HEAD']],
    ['DELETE', '/metrics', ['GET', 'HEAD']],
  ];
  for (const [method, path, allow] of cases) {
    const res = await svc.get(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.deepEqual(allowOf(res.headers.get('allow')), allow, `${method} ${path}`);
    if (method === 'HEAD') {
      assert.equal(await res.text(), '');
    } else {
      assert.equal(res.headers.get('content-type'), JSON_TYPE);
      assert.deepEqual(await bodyOf(res), { detail: 'Method Not Allowed' });
    }
  }
  const text = await (await svc.get('/metrics')).text();
  assert.match(text, /^http_requests_total\{path="\/webhook",status="405"\} 3$/m);
});

test('HEAD works where GET does: same status and content type, no body', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const cases: [string, number, string][] = [
    ['/messages', 200, JSON_TYPE],
    ['/messages?limit=0', 422, JSON_TYPE],
    ['/stats', 200, JSON_TYPE],
    ['/health/live', 200, JSON_TYPE],
    ['/health/ready', 200, JSON_TYPE],
    ['/metrics', 200, METRICS_TYPE],
  ];
  for (const [path, status, type] of cases) {
    const get = await svc.get(path);
    const getBody = await get.text();
    const head = await svc.get(path, { method: 'HEAD' });
    assert.equal(get.status, status, `GET ${path}`);
    assert.equal(head.status, status, `HEAD ${path}`);
    assert.equal(get.headers.get('content-type'), type, `GET ${path}`);
    assert.equal(head.headers.get('content-type'), type, `HEAD ${path}`);
    assert.equal(await head.text(), '', `HEAD ${path} has no body`);
    assert.ok(getBody.length > 0);
    if (path !== '/metrics') assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(getBody)), path);
  }
});

test('unknown paths count under path="unmatched"; random URLs add no series', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const tokens: string[] = [];
  for (let i = 0; i < 20; i += 1) {
    const token = `r${randomBytes(6).toString('hex')}`;
    tokens.push(token);
    const path = i % 2 === 0 ? `/${token}` : `/messages/${token}?x=${token}`;
    const res = await svc.get(path);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  }
  const text = await (await svc.get('/metrics')).text();
  for (const token of tokens) assert.ok(!text.includes(token), `series for ${token}`);
  assert.match(text, /^http_requests_total\{path="unmatched",status="404"\} 20$/m);
  const paths = new Set([...text.matchAll(/^http_requests_total\{path="([^"]*)"/gm)].map((m) => m[1]));
  assert.deepEqual([...paths].sort(), ['unmatched']);
});

test('a handler that throws gives 500 {"detail":"Internal Server Error"} and logs the error', async (t) => {
  const store: Store = {
    insert: async () => ({ ok: true, created: true }),
    insertMany: async (messages) => messages.map(() => ({ ok: true, created: true })),
    list: async () => {
      throw new Error('secret internals');
    },
    scan: async () => ({ ok: true, page: { rows: [], next: null } }),
    replay: async () => ({ ok: true, replay: { arrivals: [], head: 0, more: false } }),
    subscribe: () => () => {},
    cursorKey: new Uint8Array(32),
    stats: async () => ({ ok: true, stats: { total_messages: 0, senders_count: 0, messages_per_sender: [], first_message_ts: null, last_message_ts: null } }),
    ping: async () => true,
    writable: async () => true,
    close: async () => {},
  };
  const svc = await startTestService({ store });
  t.after(() => svc.stop());

  const res = await svc.get('/messages', { headers: { 'X-Request-ID': 'boom-1' } });
  assert.equal(res.status, 500);
  assert.equal(res.headers.get('content-type'), JSON_TYPE);
  assert.equal(res.headers.get('x-request-id'), 'boom-1');
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), { detail: 'Internal Server Error' });
  assert.ok(!text.includes('secret internals'));
  assert.ok(!text.includes('Error:'));

  const errorLine = svc.logs.find((l) => l['level'] === 'error' && typeof l['err'] === 'object');
  assert.ok(errorLine, 'an error line');
  assert.equal(typeof errorLine['msg'], 'string');
  assert.equal(typeof errorLine['ts'], 'string');
  const err = errorLine['err'] as Record<string, unknown>;
  assert.equal(err['type'], 'Error');
  assert.equal(err['message'], 'secret internals');
  assert.match(String(err['stack']), /secret internals/);
  const access = svc.accessLogs().find((l) => l['request_id'] === 'boom-1');
  assert.equal(access?.['status'], 500);
  assert.equal(access?.['level'], 'error');

  // The service keeps serving.
  const live = await svc.get('/health/live');
  assert.equal(live.status, 200);
  await live.body?.cancel();
  const metrics = await (await svc.get('/metrics')).text();
  assert.match(metrics, /^http_requests_total\{path="\/messages",status="500"\} 1$/m);
});

test('a malformed HTTP request gets a 400 with a JSON body', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const requests = [
    'GARBAGE\r\n\r\n',
    'GET /messages HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n',
    'POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n',
  ];
  for (const request of requests) {
    const res = await rawExchange(svc.port, request, { untilClose: true });
    assert.equal(res.status, 400, JSON.stringify(request));
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.deepEqual(JSON.parse(res.body), { detail: 'Bad Request' });
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)));
  }
  const text = await (await svc.get('/metrics')).text();
  assert.match(text, /^http_requests_total\{path="unmatched",status="400"\} 3$/m);
  // A correct request still works afterwards.
  const ok = await svc.get('/health/live');
  assert.equal(ok.status, 200);
  assert.deepEqual(await bodyOf(ok), { status: 'ok' });
});

test('every JSON endpoint answers with Content-Type application/json and an X-Request-ID', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  for (const path of ['/messages', '/stats', '/health/live', '/health/ready', '/messages?limit=abc', '/nope']) {
    const res = await svc.get(path);
    assert.equal(res.headers.get('content-type'), JSON_TYPE, path);
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, path);
    JSON.parse(await res.text());
  }
});

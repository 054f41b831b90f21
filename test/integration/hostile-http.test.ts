// Hostile HTTP over raw sockets: every request line read gets exactly one response (or, where the
// RFC says so, a close), one access-log line and one count, with a JSON body, X-Request-ID and
// Date; RFC 9112's framing rules; absolute-form targets; Host validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { converse, type Conversation, type ParsedResponse } from '../helpers/raw-conversation.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, freshService, message, signBody, type TestService } from '../helpers/service.ts';

const JSON_TYPE = 'application/json';

/** Asserts a response is a proper one: JSON body, X-Request-ID, Date (RFC 9110 §6.6.1). */
function assertProper(res: ParsedResponse, status: number, what: string): void {
  assert.equal(res.status, status, what);
  assert.equal(res.headers['content-type'], JSON_TYPE, what);
  assert.match(res.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]{1,128}$/, what);
  assert.ok(!Number.isNaN(Date.parse(res.headers['date'] ?? '')), `${what}: Date header`);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)), what);
  JSON.parse(res.body);
}

/** Runs a conversation and returns it with the access-log lines it produced. */
async function talk(svc: TestService, parts: readonly (string | Buffer)[], options: Parameters<typeof converse>[2] = {}): Promise<Conversation & { logged: Record<string, unknown>[] }> {
  const before = svc.accessLogs().length;
  const conversation = await converse(svc.port, parts, options);
  return { ...conversation, logged: svc.accessLogs().slice(before) };
}

const post = (head: string, body = ''): string => `POST /webhook HTTP/1.1\r\nHost: localhost\r\n${head}\r\n${body}`;

test('a framing error after the headers gets one JSON 400 and the connection closes (RFC 9112 §6.3)', async (t) => {
  const svc = await freshService(t);
  const cases: { name: string; parts: string[]; statuses: number[] }[] = [
    { name: 'Transfer-Encoding: xchunked', parts: [post('Transfer-Encoding: xchunked\r\n', '5\r\nhello\r\n0\r\n\r\n')], statuses: [400] },
    { name: 'Transfer-Encoding: identity', parts: [post('Transfer-Encoding: identity\r\n', 'hello')], statuses: [400] },
    { name: 'an invalid chunk size with the headers', parts: [post('Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n')], statuses: [400] },
    { name: 'an invalid chunk size in a later packet', parts: [post('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n'), 'zz\r\nhello\r\n0\r\n\r\n'], statuses: [400] },
    { name: 'a GET with an invalid chunk', parts: ['GET /messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'], statuses: [400] },
    { name: 'garbage pipelined after a valid request', parts: ['GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n'], statuses: [200, 400] },
    { name: 'garbage after a valid request, in its own packet', parts: ['GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', 'GARBAGE\r\n\r\n'], statuses: [200, 400] },
    { name: 'a valid POST, then garbage', parts: [`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Signature: ${signBody('{}')}\r\n\r\n{}NOT HTTP\r\n\r\n`], statuses: [422, 400] },
  ];
  for (const c of cases) {
    const got = await talk(svc, c.parts, { gapMs: 50 });
    assert.deepEqual(got.responses.map((r) => r.status), c.statuses, `${c.name}: ${JSON.stringify(got.raw)}`);
    for (const r of got.responses) assertProper(r, r.status, c.name);
    assert.deepEqual(JSON.parse(got.responses.at(-1)?.body ?? ''), { detail: 'Bad Request' }, c.name);
    assert.equal(got.closedByServer, true, `${c.name}: closed`);
    assert.deepEqual(got.logged.map((l) => l['status']), c.statuses, `${c.name}: one log line per response`);
  }
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 0);
});

test('CL with TE, differing Content-Lengths, obs-fold, a last coding other than chunked, HTTP/1.0 with TE: 400 and close', async (t) => {
  const svc = await freshService(t);
  const body = '{"message_id":"x"}';
  const cases: Record<string, string> = {
    'Content-Length and Transfer-Encoding': post(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`, `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`),
    'differing Content-Lengths': post(`Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n`, `${body} `),
    'a Content-Length list': post(`Content-Length: ${body.length}, ${body.length}\r\n`, body),
    'obs-fold': `GET /messages HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n`,
    'chunked, gzip': post('Transfer-Encoding: chunked, gzip\r\n', body),
    'gzip, chunked': post('Transfer-Encoding: gzip, chunked\r\n', `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`),
    'HTTP/1.0 with Transfer-Encoding': `POST /webhook HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\nGET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
    'HTTP/2.0 in an HTTP/1 request line': 'GET /health/live HTTP/2.0\r\nHost: x\r\n\r\n',
  };
  for (const [name, raw] of Object.entries(cases)) {
    const got = await talk(svc, [raw]);
    assert.deepEqual(got.responses.map((r) => r.status), [400], `${name}: ${JSON.stringify(got.raw)}`);
    const [res] = got.responses;
    assert.ok(res);
    assertProper(res, 400, name);
    assert.deepEqual(JSON.parse(res.body), { detail: 'Bad Request' });
    assert.equal(got.closedByServer, true, `${name}: closed`);
    assert.deepEqual(got.logged.map((l) => l['status']), [400], `${name}: logged once`);
  }
});

test('Host: missing in HTTP/1.1, repeated or invalid → 400 (RFC 9112 §3.2); HTTP/1.0 may omit it', async (t) => {
  const svc = await freshService(t);
  const get = (hostLines: string, version = '1.1'): string => `GET /health/live HTTP/${version}\r\n${hostLines}\r\n`;
  for (const [name, raw] of Object.entries({
    'no Host': get(''),
    'two Host lines': get('Host: a\r\nHost: b\r\n'),
    'the same Host twice': get('Host: a\r\nhost: a\r\n'),
    'bad host': get('Host: bad host\r\n'),
    'a/b': get('Host: a/b\r\n'),
    'x@evil.example': get('Host: x@evil.example\r\n'),
    '[::1': get('Host: [::1\r\n'),
    'two Host lines in HTTP/1.0': get('Host: a\r\nHost: b\r\n', '1.0'),
  })) {
    const got = await talk(svc, [raw]);
    assert.deepEqual(got.responses.map((r) => r.status), [400], `${name}: ${JSON.stringify(got.raw)}`);
    assertProper(got.responses[0] as ParsedResponse, 400, name);
    assert.deepEqual(JSON.parse(got.responses[0]?.body ?? ''), { detail: 'Bad Request' }, name);
  }
  for (const raw of [get('Host: [::1]:8000\r\n'), get('', '1.0'), get('Host: example.com:8000\r\n')]) {
    const got = await talk(svc, [raw], { timeoutMs: 500 });
    assert.equal(got.responses[0]?.status, 200, raw);
  }
});

test('absolute-form targets are routed by their path (RFC 9112 §3.2.2)', async (t) => {
  const svc = await freshService(t);
  const base = `http://127.0.0.1:${svc.port}`;
  const live = await talk(svc, [`GET ${base}/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`]);
  assert.equal(live.responses[0]?.status, 200);
  assert.deepEqual(JSON.parse(live.responses[0]?.body ?? ''), { status: 'ok' });
  const body = JSON.stringify(message({ message_id: 'absolute-form-1' }));
  const delivered = await talk(svc, [`POST ${base}/webhook HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\nX-Signature: ${signBody(body)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`]);
  assert.equal(delivered.responses[0]?.status, 200, delivered.raw);
  const listed = await talk(svc, [`GET HTTP://LOCALHOST/messages?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
  assert.equal(listed.responses[0]?.status, 200);
  const page = JSON.parse(listed.responses[0]?.body ?? '{}') as { data: { message_id: string }[]; limit: number };
  assert.deepEqual([page.limit, page.data.map((m) => m.message_id)], [1, ['absolute-form-1']]);
  assert.equal(delivered.logged[0]?.['path'], '/webhook');
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/health/live",status="200"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="200"}'), 1);
});

test('raw 400, 408 and 431 answers carry Date, X-Request-ID and a JSON body, and are logged and counted', async (t) => {
  const svc = await freshService(t, { timeoutMs: 300 });
  const garbage = await talk(svc, ['GARBAGE\r\n\r\n']);
  assertProper(garbage.responses[0] as ParsedResponse, 400, 'garbage');
  const slow = await talk(svc, ['GET /messages HTTP/1.1\r\nHost: x\r\n'], { timeoutMs: 3_000 });
  assertProper(slow.responses[0] as ParsedResponse, 408, 'header timeout');
  assert.deepEqual(JSON.parse(slow.responses[0]?.body ?? ''), { detail: 'request timeout' });
  const huge = await talk(svc, [`GET /messages HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
  assertProper(huge.responses[0] as ParsedResponse, 431, 'huge headers');
  for (const got of [garbage, slow, huge]) assert.equal(got.logged.length, 1);
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_requests_total{path="unmatched",status="400"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="unmatched",status="408"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="unmatched",status="431"}'), 1);
  // Every request is in the latency histogram too, malformed ones included.
  assert.equal(metricValue(metrics, 'request_latency_ms_count'), 3);
});

test('a client that reads its 413 and then closes is logged and counted once', async (t) => {
  const svc = await freshService(t);
  const limit = svc.config.maxBodyBytes;
  const got = await talk(svc, [`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: ${limit + 1}\r\n\r\n{"a":`], { halfClose: true });
  assert.deepEqual(got.responses.map((r) => r.status), [413]);
  // Give the service a moment to see the EOF (the bug logged a second line then).
  await new Promise((r) => setTimeout(r, 100));
  const lines = svc.accessLogs().filter((l) => l['path'] !== '/metrics');
  assert.deepEqual(lines.map((l) => [l['status'], l['result']]), [[413, 'payload_too_large']]);
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="413"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="unmatched",status="400"}'), undefined);
});

test('an unknown Expect, HTTP/1.1 without Host and CONNECT get JSON answers, a log line and a count', async (t) => {
  const svc = await freshService(t);
  const expect = await talk(svc, ['POST /webhook HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}']);
  assertProper(expect.responses[0] as ParsedResponse, 417, 'Expect');
  assert.deepEqual(JSON.parse(expect.responses[0]?.body ?? ''), { detail: 'Expectation Failed' });
  const noHost = await talk(svc, ['GET /health/live HTTP/1.1\r\n\r\n']);
  assertProper(noHost.responses[0] as ParsedResponse, 400, 'no Host');
  assert.deepEqual(JSON.parse(noHost.responses[0]?.body ?? ''), { detail: 'Bad Request' });
  const connectAuthority = await talk(svc, ['CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n']);
  assertProper(connectAuthority.responses[0] as ParsedResponse, 400, 'CONNECT host:port');
  assert.equal(connectAuthority.closedByServer, true);
  const connectPath = await talk(svc, ['CONNECT /webhook HTTP/1.1\r\nHost: x\r\n\r\n']);
  assertProper(connectPath.responses[0] as ParsedResponse, 405, 'CONNECT /webhook');
  assert.equal(connectPath.responses[0]?.headers['allow'], 'POST');
  for (const got of [expect, noHost, connectAuthority, connectPath]) assert.equal(got.logged.length, 1);
  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="417"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="405"}'), 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="unmatched",status="400"}'), 2);
  assert.equal(metricValue(metrics, 'request_latency_ms_count'), 4);
  // 100-continue still works as before.
  const body = JSON.stringify(message({ message_id: 'continue-1' }));
  const cont = await talk(svc, [`POST /webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nX-Signature: ${signBody(body)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`, body], { gapMs: 50 });
  assert.match(cont.raw, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
});

test('q matches ẞ with ß and SS, either way', async (t) => {
  const svc = await freshService(t);
  for (const [id, text] of [['sharp-capital', 'GROẞE Freude'], ['sharp-small', 'große Freude']]) {
    const res = await svc.deliver(message({ message_id: id, text }));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  for (const q of ['ẞ', 'ß', 'ss', 'GROSSE', 'große', 'GROẞE']) {
    const list = await bodyOf(await svc.get(`/messages?q=${encodeURIComponent(q)}`));
    assert.deepEqual(list.data.map((m: { message_id: string }) => m.message_id).sort(), ['sharp-capital', 'sharp-small'], q);
  }
});

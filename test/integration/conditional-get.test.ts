// Conditional GET on /messages and /stats: a weak ETag, and 304 with no body for a matching
// If-None-Match (RFC 9110 §13.1.2, weak comparison), over a real socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { freshService, message, seed } from '../helpers/service.ts';

for (const path of ['/messages?limit=2', '/stats']) {
  test(`${path}: weak ETag, 304 for a match, a new one after a change`, async (t) => {
    const svc = await freshService(t);
    await seed(svc, [message({ message_id: 'e1' })]);
    const first = await svc.get(path);
    const etag = first.headers.get('etag') ?? '';
    const body = await first.text();
    assert.match(etag, /^W\/"[A-Za-z0-9_-]+"$/);
    assert.equal((await svc.get(path)).headers.get('etag'), etag, 'the same answer, the same tag');

    for (const header of [etag, `"other", ${etag}`, `W/"a",${etag} , "b"`, etag.slice(2), '*']) {
      const res = await svc.get(path, { headers: { 'If-None-Match': header } });
      assert.equal(res.status, 304, header);
      assert.equal(await res.text(), '');
      assert.equal(res.headers.get('etag'), etag);
      assert.ok(res.headers.get('x-request-id'));
    }
    for (const header of ['W/"nope"', '"nope"', 'garbage', etag.slice(0, -2), '']) {
      const res = await svc.get(path, { headers: { 'If-None-Match': header } });
      assert.equal(res.status, 200, header);
      assert.equal(await res.text(), body);
    }
    // No body and no Content-Length on the wire.
    const raw = await rawExchange(svc.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\nConnection: close\r\n\r\n`, { untilClose: true });
    assert.equal(raw.status, 304);
    assert.equal(raw.body, '');
    assert.equal(raw.headers['content-length'], undefined);
    const head = await svc.get(path, { method: 'HEAD', headers: { 'If-None-Match': etag } });
    assert.equal(head.status, 304);

    await seed(svc, [message({ message_id: 'e2', from: '+15551234567' })]);
    const changed = await svc.get(path, { headers: { 'If-None-Match': etag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
    assert.equal(metricValue(await scrape(svc), `http_requests_total{path="${path.split('?')[0]}",status="304"}`), 7); // five headers, the raw exchange, the HEAD
  });
}

test('the body of a 200 is exactly what it was before ETags (byte for byte)', async (t) => {
  const svc = await freshService(t);
  await seed(svc, [message({ message_id: 'b1', ts: '2025-01-15T10:00:00.5Z', text: 'é "q"' })]);
  assert.equal(
    await (await svc.get('/messages')).text(),
    '{"data":[{"message_id":"b1","from":"+919876543210","to":"+14155550100","ts":"2025-01-15T10:00:00.5Z","text":"é \\"q\\""}],"total":1,"limit":50,"offset":0}',
  );
  assert.equal(
    await (await svc.get('/stats')).text(),
    '{"total_messages":1,"senders_count":1,"messages_per_sender":[{"from":"+919876543210","count":1}],"first_message_ts":"2025-01-15T10:00:00.5Z","last_message_ts":"2025-01-15T10:00:00.5Z"}',
  );
  assert.notEqual((await svc.get('/messages?limit=1')).headers.get('etag'), (await svc.get('/messages?limit=2')).headers.get('etag'), 'another answer, another tag');
});

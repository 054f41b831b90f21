// READ_TOKEN over a real socket: the read routes need `Authorization: Bearer <token>` (401 with
// WWW-Authenticate: Bearer otherwise), probes, metrics and the webhook stay open, and the token
// never reaches a log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, freshService, message, seed } from '../helpers/service.ts';
import { openSse } from '../helpers/sse.ts';

const TOKEN = 'r3ad-T0ken_for.tests~+/=';
const READ_ROUTES = ['/messages', '/messages/export', '/messages/stream', '/stats'];

test('with READ_TOKEN set, every read route answers 401 without the right bearer token', async (t) => {
  const svc = await freshService(t, { env: { READ_TOKEN: TOKEN } });
  const wrong: Record<string, string>[] = [
    {},
    { Authorization: '' },
    { Authorization: 'Bearer' },
    { Authorization: 'Bearer ' },
    { Authorization: `Bearer ${TOKEN}x` },
    { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { Authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
    { Authorization: TOKEN },
    { Authorization: `Bearer ${TOKEN} extra` },
    { Authorization: `Token ${TOKEN}` },
    { Authorization: `Bearer ${'x'.repeat(8000)}` },
  ];
  for (const path of READ_ROUTES) {
    for (const headers of wrong) {
      for (const method of ['GET', 'HEAD']) {
        const res = await svc.get(`${path}?limit=abc`, { method, headers }); // the token is checked before the query
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers).slice(0, 60)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        if (method === 'GET') assert.deepEqual(await bodyOf(res), { detail: 'unauthorized' });
        else await res.body?.cancel();
      }
    }
  }
  assert.equal(metricValue(await scrape(svc), 'http_requests_total{path="/stats",status="401"}'), wrong.length * 2);
});

test('with the token, the read routes answer; the scheme is case-insensitive', async (t) => {
  const svc = await freshService(t, { env: { READ_TOKEN: TOKEN } });
  await seed(svc, [message({ message_id: 'tok-1' })]);
  for (const auth of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER   ${TOKEN}`]) {
    const headers = { Authorization: auth };
    assert.equal((await bodyOf(await svc.get('/messages', { headers }))).total, 1);
    assert.equal((await bodyOf(await svc.get('/stats', { headers }))).total_messages, 1);
    const exported = await svc.get('/messages/export', { headers });
    assert.equal(exported.status, 200);
    assert.match(await exported.text(), /"tok-1"/);
  }
  const client = await openSse(`${svc.url}/messages/stream`, { Authorization: `Bearer ${TOKEN}`, 'Last-Event-ID': '0' });
  t.after(() => client.close());
  assert.equal(client.status, 200);
  await client.waitFor('the replayed message', (events) => events.length === 1);
});

test('probes, metrics and the webhook stay open with READ_TOKEN set; the token is never logged', async (t) => {
  const svc = await freshService(t, { env: { READ_TOKEN: TOKEN, LOG_LEVEL: 'DEBUG' } });
  assert.equal((await svc.get('/health/live')).status, 200);
  assert.equal((await svc.get('/health/ready')).status, 200);
  assert.equal((await svc.get('/metrics')).status, 200);
  assert.equal((await svc.deliver(message({ message_id: 'open-webhook' }))).status, 200);
  await svc.get('/messages', { headers: { Authorization: `Bearer ${TOKEN}` } });
  await svc.get('/messages', { headers: { Authorization: `Bearer wrong-${TOKEN}` } });
  assert.ok(!svc.rawLog().includes(TOKEN), 'the token is not in the log');
  assert.ok(!svc.rawLog().toLowerCase().includes('bearer'));
});

test('without READ_TOKEN the read routes are open, as before (an Authorization header is ignored)', async (t) => {
  const svc = await freshService(t);
  for (const path of READ_ROUTES.filter((p) => p !== '/messages/stream')) {
    assert.equal((await svc.get(path)).status, 200, path);
    assert.equal((await svc.get(path, { headers: { Authorization: 'Bearer anything' } })).status, 200, path);
  }
});

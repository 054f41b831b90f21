// Health probes and the Prometheus scrape over a real socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { metricValue as sample, scrape } from '../helpers/metrics.ts';
import { bodyOf, freshService as fresh, message, SECRET } from '../helpers/service.ts';
import { failingStore } from '../helpers/stores.ts';
import { haveTool } from '../helpers/tools.ts';

async function drain(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

test('/health/live is 200 {"status":"ok"}', async (t) => {
  const svc = await fresh(t);
  const res = await svc.get('/health/live');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await bodyOf(res), { status: 'ok' });
});

test('/health/live stays 200 when the database is down and the secret unset', async (t) => {
  const svc = await fresh(t, { store: failingStore({ message: 'disk I/O error' }), env: { WEBHOOK_SECRET: '' } });
  const res = await svc.get('/health/live');
  assert.equal(res.status, 200);
  assert.deepEqual(await bodyOf(res), { status: 'ok' });
});

test('/health/ready is 200 {"status":"ready"} with a secret and a database', async (t) => {
  const svc = await fresh(t);
  const res = await svc.get('/health/ready');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await bodyOf(res), { status: 'ready' });
});

test('/health/ready is 503 when WEBHOOK_SECRET is empty', async (t) => {
  const svc = await fresh(t, { env: { WEBHOOK_SECRET: '' } });
  const res = await svc.get('/health/ready');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = await bodyOf(res);
  assert.deepEqual(Object.keys(body).sort(), ['reasons', 'status']);
  assert.equal(body.status, 'not ready');
  assert.ok(Array.isArray(body.reasons));
  assert.equal(body.reasons.length, 1);
  assert.match(body.reasons[0], /secret/i);
  assert.ok(!JSON.stringify(body).includes(SECRET));
});

test('/health/ready is 503 when the database does not answer, naming the check but not the secret', async (t) => {
  const svc = await fresh(t, { store: failingStore({ message: 'disk I/O error' }) });
  const res = await svc.get('/health/ready');
  assert.equal(res.status, 503);
  const body = await bodyOf(res);
  assert.deepEqual(Object.keys(body).sort(), ['reasons', 'status']);
  assert.equal(body.status, 'not ready');
  assert.equal(body.reasons.length, 1);
  assert.match(body.reasons[0], /database/i);
  assert.ok(!JSON.stringify(body).includes(SECRET));
});

test('/health/ready lists every failed check', async (t) => {
  const svc = await fresh(t, { store: failingStore({ message: 'disk I/O error' }), env: { WEBHOOK_SECRET: '' } });
  const res = await svc.get('/health/ready');
  assert.equal(res.status, 503);
  const body = await bodyOf(res);
  assert.equal(body.status, 'not ready');
  assert.equal(body.reasons.length, 2);
  assert.ok(body.reasons.some((r: string) => /secret/i.test(r)));
  assert.ok(body.reasons.some((r: string) => /database/i.test(r)));
});

test('/metrics has the exact content type and HELP/TYPE for every family', async (t) => {
  const svc = await fresh(t);
  const text = await scrape(svc);
  const lines = text.split('\n');
  for (const [name, type] of [
    ['http_requests_total', 'counter'],
    ['webhook_requests_total', 'counter'],
    ['request_latency_ms', 'histogram'],
  ] as const) {
    assert.equal(lines.filter((l) => l.startsWith(`# HELP ${name} `)).length, 1, `HELP ${name}`);
    assert.ok(lines.includes(`# TYPE ${name} ${type}`), `TYPE ${name}`);
  }
  assert.ok(text.endsWith('\n'));
});

test('every webhook result is present at 0 on a fresh service', async (t) => {
  const svc = await fresh(t);
  const text = await scrape(svc);
  for (const result of ['created', 'duplicate', 'invalid_signature', 'validation_error']) {
    assert.equal(sample(text, `webhook_requests_total{result="${result}"}`), 0, result);
  }
  const series = text.split('\n').filter((l) => l.startsWith('webhook_requests_total{'));
  assert.ok(series.length >= 4);
  for (const line of series) assert.match(line, /^webhook_requests_total\{result="[a-z_]+"\} 0$/);
});

test('webhook results are counted by outcome', async (t) => {
  const svc = await fresh(t);
  const m = message();
  assert.equal(await drain(svc.deliver(m)), 200);
  assert.equal(await drain(svc.deliver(m)), 200);
  assert.equal(await drain(svc.deliver(message())), 200);
  assert.equal(await drain(svc.post(JSON.stringify(message()), { 'X-Signature': '0'.repeat(64) })), 401);
  assert.equal(await drain(svc.deliver({ ...message(), ts: 'yesterday' })), 422);
  const text = await scrape(svc);
  assert.equal(sample(text, 'webhook_requests_total{result="created"}'), 2);
  assert.equal(sample(text, 'webhook_requests_total{result="duplicate"}'), 1);
  assert.equal(sample(text, 'webhook_requests_total{result="invalid_signature"}'), 1);
  assert.equal(sample(text, 'webhook_requests_total{result="validation_error"}'), 1);
  assert.equal(sample(text, 'http_requests_total{path="/webhook",status="200"}'), 3);
  assert.equal(sample(text, 'http_requests_total{path="/webhook",status="401"}'), 1);
  assert.equal(sample(text, 'http_requests_total{path="/webhook",status="422"}'), 1);
});

test('request_latency_ms has the required buckets, _sum and _count of the requests served before the scrape', async (t) => {
  const svc = await fresh(t);
  assert.equal(await drain(svc.get('/health/live')), 200);
  assert.equal(await drain(svc.get('/messages')), 200);
  assert.equal(await drain(svc.get('/stats')), 200);
  assert.equal(await drain(svc.get('/no/such/path')), 404);
  assert.equal(await drain(svc.deliver(message())), 200);
  const text = await scrape(svc);
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith('request_latency_ms_bucket{'))
    .map((l) => {
      const m = /^request_latency_ms_bucket\{le="([^"]+)"\} ([0-9]+)$/.exec(l);
      assert.ok(m, l);
      return { le: m[1] ?? '', count: Number(m[2]) };
    });
  const les = buckets.map((b) => b.le);
  for (const le of ['100', '500', '+Inf']) assert.ok(les.includes(le), `le="${le}"`);
  assert.equal(les[les.length - 1], '+Inf');
  for (let i = 1; i < buckets.length; i += 1) {
    assert.ok((buckets[i]?.count ?? -1) >= (buckets[i - 1]?.count ?? Infinity), 'buckets are cumulative');
  }
  assert.equal(sample(text, 'request_latency_ms_count'), 5);
  assert.equal(sample(text, 'request_latency_ms_bucket{le="+Inf"}'), 5);
  const sum = sample(text, 'request_latency_ms_sum');
  assert.ok(sum !== undefined && Number.isFinite(sum) && sum > 0, `sum ${sum}`);

  // The first scrape itself is counted by the next one.
  assert.equal(sample(await scrape(svc), 'request_latency_ms_count'), 6);
});

test('http_requests_total{path="/messages",status="200"} increments; unknown paths count as "unmatched"', async (t) => {
  const svc = await fresh(t);
  const series = 'http_requests_total{path="/messages",status="200"}';
  assert.equal(sample(await scrape(svc), series), undefined);
  assert.equal(await drain(svc.get('/messages')), 200);
  assert.equal(sample(await scrape(svc), series), 1);
  assert.equal(await drain(svc.get('/messages?limit=5')), 200);
  assert.equal(await drain(svc.get('/messages?limit=0')), 422);
  const text = await scrape(svc);
  assert.equal(sample(text, series), 2);
  assert.equal(sample(text, 'http_requests_total{path="/messages",status="422"}'), 1);
  assert.equal(sample(text, 'http_requests_total{path="/metrics",status="200"}'), 2);

  assert.equal(await drain(svc.get('/random-a1b2c3')), 404);
  assert.equal(await drain(svc.get('/another/random-d4e5')), 404);
  const after = await scrape(svc);
  assert.equal(sample(after, 'http_requests_total{path="unmatched",status="404"}'), 2);
  assert.ok(!after.includes('random-'), 'raw paths never become labels');
});

test('promtool check metrics accepts a real scrape after traffic', async (t) => {
  if (!haveTool(t, 'promtool')) return;
  const svc = await fresh(t);
  const m = message();
  assert.equal(await drain(svc.deliver(m)), 200);
  assert.equal(await drain(svc.deliver(m)), 200);
  assert.equal(await drain(svc.post('{}', { 'X-Signature': 'zz' })), 401);
  assert.equal(await drain(svc.deliver([])), 422);
  assert.equal(await drain(svc.get('/messages?from=%2B1')), 200);
  assert.equal(await drain(svc.get('/nowhere')), 404);
  assert.equal(await drain(svc.get('/stats', { method: 'POST' })), 405);
  const text = await scrape(svc);
  assert.equal(sample(text, 'messages_stored'), 1);
  for (const family of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds']) {
    assert.ok((sample(text, family) ?? -1) >= 0, family);
  }
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
  assert.equal(check.error, undefined);
  const output = `${check.stdout}${check.stderr}`.trim();
  // SPEC.md fixes the name `request_latency_ms` (kept from the earlier service) and also asks for a
  // clean `promtool check metrics`. promtool's linter (exit 3) flags exactly that name for its
  // abbreviated unit; that one finding is tolerated, any parse error (exit 1) or other finding fails.
  const tolerated = 'request_latency_ms metric names should not contain abbreviated units';
  if (check.status === 3) assert.equal(output, tolerated);
  else assert.equal(check.status, 0, output);
});

test('messages_stored counts the stored rows at each scrape; without a database it is left out and the scrape still works', async (t) => {
  const svc = await fresh(t);
  assert.equal(sample(await scrape(svc), 'messages_stored'), 0);
  const m = message();
  assert.equal(await drain(svc.deliver(m)), 200);
  assert.equal(await drain(svc.deliver(m)), 200);
  assert.equal(await drain(svc.deliver(message())), 200);
  assert.equal(sample(await scrape(svc), 'messages_stored'), 2);

  const broken = await fresh(t, { store: failingStore({ message: 'disk I/O error' }) });
  const text = await scrape(broken);
  assert.equal(sample(text, 'messages_stored'), undefined);
  assert.match(text, /^# TYPE messages_stored gauge$/m);
  assert.equal(sample(text, 'webhook_requests_total{result="created"}'), 0);
});

test('process metrics describe this process', async (t) => {
  const svc = await fresh(t);
  const text = await scrape(svc);
  const start = sample(text, 'process_start_time_seconds') ?? 0;
  assert.ok(start > Date.now() / 1000 - 3600 && start <= Date.now() / 1000, `start ${start}`);
  assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 10 * 1024 * 1024);
  const cpu = sample(text, 'process_cpu_seconds_total') ?? 0;
  assert.ok(cpu > 0);
  assert.ok((sample(await scrape(svc), 'process_cpu_seconds_total') ?? 0) >= cpu, 'CPU time only goes up');
});

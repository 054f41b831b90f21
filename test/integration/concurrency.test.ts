// Concurrent deliveries: one message_id delivered many times at once is stored exactly once and
// every sender gets 200; distinct ids delivered at once are all stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BATCH } from '../../src/storage/sqlite/protocol.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, message, startTestService } from '../helpers/service.ts';

test('50 concurrent deliveries of one message_id: all 200, exactly one row, first write wins', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const id = `same-${Date.now()}`;
  const bodies = Array.from({ length: 50 }, (_, i) => message({ message_id: id, text: i % 3 === 0 ? 'same text' : `variant ${i}` }));

  const responses = await Promise.all(bodies.map((b, i) => svc.deliver(b, { 'X-Request-ID': `conc-${i}` })));
  const results = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await bodyOf(r) })));
  assert.deepEqual(results, Array.from({ length: 50 }, () => ({ status: 200, body: { status: 'ok' } })));

  const list = await bodyOf(await svc.get('/messages?limit=100'));
  assert.equal(list.total, 1);
  assert.equal(list.data.length, 1);
  assert.equal(list.data[0].message_id, id);
  // The stored row is the body of the one request logged as created.
  const createdLines = svc.accessLogs().filter((l) => l['result'] === 'created');
  assert.equal(createdLines.length, 1);
  const winner = Number(String(createdLines[0]?.['request_id']).slice('conc-'.length));
  assert.equal(list.data[0].text, bodies[winner]?.['text']);

  const text = await scrape(svc);
  assert.equal(metricValue(text, 'webhook_requests_total{result="created"}'), 1);
  assert.equal(metricValue(text, 'webhook_requests_total{result="duplicate"}'), 49);
  assert.equal(metricValue(text, 'webhook_requests_total{result="unavailable"}'), 0);
  assert.equal(metricValue(text, 'http_requests_total{path="/webhook",status="200"}'), 50);

  const lines = svc.accessLogs().filter((l) => l['path'] === '/webhook');
  assert.equal(lines.length, 50);
  assert.equal(lines.filter((l) => l['result'] === 'created' && l['dup'] === false).length, 1);
  assert.equal(lines.filter((l) => l['result'] === 'duplicate' && l['dup'] === true).length, 49);
  assert.ok(lines.every((l) => l['message_id'] === id));

  const stats = await bodyOf(await svc.get('/stats'));
  assert.equal(stats.total_messages, 1);
});

test('50 concurrent deliveries of distinct ids: 50 rows', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const bodies = Array.from({ length: 50 }, (_, i) => message({ message_id: `distinct-${String(i).padStart(2, '0')}`, text: `text ${i}` }));

  const responses = await Promise.all(bodies.map((b) => svc.deliver(b)));
  const statuses = await Promise.all(responses.map(async (r) => {
    await r.body?.cancel();
    return r.status;
  }));
  assert.deepEqual(statuses, Array.from({ length: 50 }, () => 200));

  const list = await bodyOf(await svc.get('/messages?limit=100'));
  assert.equal(list.total, 50);
  // Same ts for all, so the order is message_id ascending.
  assert.deepEqual(
    list.data.map((r: { message_id: string; text: string }) => [r.message_id, r.text]),
    bodies.map((b) => [b['message_id'], b['text']]),
  );

  const text = await scrape(svc);
  assert.equal(metricValue(text, 'webhook_requests_total{result="created"}'), 50);
  assert.equal(metricValue(text, 'webhook_requests_total{result="duplicate"}'), 0);
});

test('concurrent duplicates mixed with new ids: one row per id', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const ids = ['mix-a', 'mix-b', 'mix-c', 'mix-d', 'mix-e'];
  const bodies = Array.from({ length: 50 }, (_, i) => message({ message_id: ids[i % ids.length], text: `v${i}` }));
  const responses = await Promise.all(bodies.map((b) => svc.deliver(b)));
  for (const r of responses) {
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
  const list = await bodyOf(await svc.get('/messages?limit=100'));
  assert.equal(list.total, 5);
  assert.deepEqual(list.data.map((r: { message_id: string }) => r.message_id), ids);
  const text = await scrape(svc);
  assert.equal(metricValue(text, 'webhook_requests_total{result="created"}'), 5);
  assert.equal(metricValue(text, 'webhook_requests_total{result="duplicate"}'), 45);
});

test('more concurrent deliveries than one group commit takes are all stored, each once', async (t) => {
  // 1,200 at once is above the default in-flight cap; this test is about batching, not the cap.
  const svc = await startTestService({ maxInFlightWebhooks: 4096 });
  t.after(() => svc.stop());
  const count = MAX_BATCH + 88;
  const bodies = Array.from({ length: count }, (_, i) => message({ message_id: `batch-${String(i).padStart(4, '0')}` }));
  // Every id twice: the second copy may land in the same transaction as the first, or a later one.
  // 256 in flight at a time: enough to fill batches, few enough that a loaded CI machine does not
  // reset connections in the accept queue (which would test the kernel, not the service).
  const queue = [...bodies, ...bodies];
  const outcomes: string[] = [];
  await Promise.all(Array.from({ length: 256 }, async () => {
    for (let b = queue.shift(); b !== undefined; b = queue.shift()) {
      const r = await svc.deliver(b);
      outcomes.push(`${r.status} ${await r.text()}`);
    }
  }));
  assert.equal(outcomes.length, 2 * count);
  assert.deepEqual(new Set(outcomes), new Set(['200 {"status":"ok"}']));
  const stats = await bodyOf(await svc.get('/stats'));
  assert.equal(stats.total_messages, count);
  const text = await scrape(svc);
  assert.equal(metricValue(text, 'webhook_requests_total{result="created"}'), count);
  assert.equal(metricValue(text, 'webhook_requests_total{result="duplicate"}'), count);
});

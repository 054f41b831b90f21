// Slow and abusive clients. Timeouts are shortened (the production 10 s is checked in
// test/integration/timeouts.test.ts); the in-flight cap is small and the store is held back by a
// gate, so "more work than the service can take" is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { reportFigures } from '../helpers/figures.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, message, startTestService, tempDir } from '../helpers/service.ts';

const TIMEOUT_MS = 600;

type Ended = { received: string; afterMs: number };

/** Opens a socket, runs `talk`, and resolves with what the server sent once it closes the connection. */
function converse(port: number, talk: (socket: Socket) => void): Promise<Ended> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => talk(socket));
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ received, afterMs: performance.now() - started }));
  });
}

test('slowloris headers get a 408 and are cut off; a body that never finishes is cut off; others are served meanwhile', async (t) => {
  const svc = await startTestService({ timeoutMs: TIMEOUT_MS });
  t.after(() => svc.stop());

  const header = 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Filler: ' + 'a'.repeat(200);
  const slowloris = Array.from({ length: 20 }, () => converse(svc.port, (socket) => {
    let i = 0;
    const drip = setInterval(() => {
      if (socket.destroyed || i >= header.length) return clearInterval(drip);
      socket.write(header[i] ?? '');
      i += 1;
    }, 20);
    socket.on('close', () => clearInterval(drip));
  }));
  const stalledBodies = Array.from({ length: 20 }, (_, i) => converse(svc.port, (socket) => {
    socket.write(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"message_id":"stalled-${i}","text":"`);
  }));

  // While they hang on, other clients are served.
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    const res = await svc.get('/messages');
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.ok(performance.now() - started < 1_000, 'served promptly');
  }

  for (const ended of await Promise.all(slowloris)) {
    assert.match(ended.received, /^HTTP\/1\.1 408 /);
    assert.ok(ended.received.endsWith('{"detail":"request timeout"}'));
    assert.ok(ended.afterMs < TIMEOUT_MS + 3_000, `cut off after ${ended.afterMs} ms`);
  }
  for (const ended of await Promise.all(stalledBodies)) {
    // Cut off without an answer: the request had started, and the client is not sending anyway.
    assert.doesNotMatch(ended.received, /^HTTP\/1\.1 2/);
    assert.ok(ended.afterMs < TIMEOUT_MS + 3_000, `cut off after ${ended.afterMs} ms`);
  }
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 0);
  const ready = await svc.get('/health/ready');
  assert.equal(ready.status, 200);
  await ready.body?.cancel();
});

test('1,000 idle keep-alive connections do not stop a new client from being served', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy()));
  const answered: Promise<void>[] = [];
  for (let i = 0; i < 1_000; i += 1) {
    const socket = connect(svc.port, '127.0.0.1');
    socket.on('error', () => {});
    sockets.push(socket);
    // Half of them made one request and now idle on keep-alive; the other half never sent a byte.
    if (i % 2 === 0) {
      answered.push(new Promise((resolve) => socket.once('data', () => resolve())));
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    }
  }
  await Promise.all(answered);
  const started = performance.now();
  const delivered = await svc.deliver(message({ message_id: 'after-idle-crowd' }));
  assert.equal(delivered.status, 200);
  await delivered.body?.cancel();
  const list = await svc.get('/messages');
  assert.equal(list.status, 200);
  assert.equal((await bodyOf(list)).total, 1);
  const servedMs = performance.now() - started;
  assert.ok(servedMs < 1_000, `served in ${servedMs} ms`);
  assert.equal(sockets.filter((s) => !s.destroyed).length, 1_000, 'the idle connections are still open');
  reportFigures(t, 'idle-connections', { idle_connections: 1_000, new_client_served_ms: Math.round(servedMs) });
});

/** The real store, but inserts wait until the gate opens: storage slower than the arrival rate. */
function gatedStore(store: Store): { store: Store; open(): void } {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { store: { ...store, insert: async (m) => (await gate, store.insert(m)) }, open: () => release() };
}

test('a flood beyond capacity gets fast 503 "server busy" + Retry-After, and the work in progress still completes', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cap = 32;
  const { store } = await openWorkerStore({ path: `${dir}/flood.db`, now: () => new Date() });
  const gated = gatedStore(store);
  const svc = await startTestService({ store: gated.store, maxInFlightWebhooks: cap });
  t.after(() => svc.stop());

  const inProgress = Array.from({ length: cap }, (_, i) => svc.deliver(message({ message_id: `held-${i}` })));
  await sleep(100); // they are now all waiting on the store
  const started = performance.now();
  const flood = await Promise.all(Array.from({ length: 500 }, async (_, i) => {
    const res = await svc.deliver(message({ message_id: `flood-${i}`, text: 'x'.repeat(2_000) }));
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  }));
  const floodMs = performance.now() - started;
  assert.deepEqual(new Set(flood.map((f) => JSON.stringify(f))), new Set([JSON.stringify({ status: 503, retryAfter: '1', body: '{"detail":"server busy"}' })]));
  // All 500 were answered while every slot was still held (the gate opens only below): none of
  // them waited for storage or queued behind the work in progress.

  gated.open();
  const held = await Promise.all(inProgress);
  assert.deepEqual(held.map((r) => r.status), held.map(() => 200));
  await Promise.all(held.map((r) => r.body?.cancel()));
  const after = await svc.deliver(message({ message_id: 'after-flood' }));
  assert.equal(after.status, 200);
  await after.body?.cancel();

  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="overloaded"}'), 500);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="created"}'), cap + 1);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="503"}'), 500);
  const line = svc.accessLogs().find((l) => l['result'] === 'overloaded');
  assert.equal(line?.['status'], 503);
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, cap + 1);
  reportFigures(t, 'flood', { cap, refused_503: 500, refusal_batch_ms: Math.round(floodMs), completed_in_progress: cap });
});

// The service's lifecycle inside one process: a failed start releases the store; on shutdown a
// stalled in-flight request is cut off when the grace period ends and the database is closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/service.ts';
import { startTestService } from '../helpers/service.ts';
import { failingStore } from '../helpers/stores.ts';

test('shutdown waits for in-flight requests only up to the grace period, then closes the database', async (t) => {
  const svc = await startTestService({ shutdownGraceMs: 200 });
  t.after(() => svc.stop());

  // A request whose body never completes; "100 Continue" tells us the server is handling it.
  const socket = connect(svc.port, '127.0.0.1');
  t.after(() => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  const continued = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n{"message');
  await continued;

  assert.equal(await svc.store.ping(), true);
  await svc.shutdown('test');
  await closed;

  // (On PostgreSQL the search index's line comes whenever its check or build ends: not in sequence.)
  const messages = svc.logs.map((l) => l['msg']).filter((m) => m !== undefined && m !== 'search index');
  assert.deepEqual(messages.slice(-3), ['shutting down', 'grace period over, closing open connections', 'stopped']);
  assert.equal(await svc.store.ping(), false, 'the database is closed');
  assert.equal(await svc.store.insert({ messageId: 'late', from: '+1', to: '+2', ts: '2025-01-15T10:00:00Z', tsKey: '2025-01-15T10:00:00.000000000Z', text: null }).then((r) => r.ok), false);
});

test('a port already in use fails the start and closes the store it was given', async (t) => {
  const first = await startTestService();
  t.after(() => first.stop());
  const loaded = loadConfig({ WEBHOOK_SECRET: 's', DATABASE_URL: ':memory:', PORT: String(first.port), HOST: '127.0.0.1' });
  assert.ok(loaded.ok);
  let closed = 0;
  const store = { ...failingStore(), close: async () => void (closed += 1) };
  await assert.rejects(startService(loaded.config, { write: () => {}, store }), { code: 'EADDRINUSE' });
  assert.equal(closed, 1);
});

test('a database that fails to close is logged, and shutdown still completes', async (t) => {
  const store = { ...failingStore(), close: async () => Promise.reject(new Error('worker would not stop')) };
  const svc = await startTestService({ store });
  t.after(() => svc.stop());
  await svc.shutdown('test');
  const messages = svc.logs.map((l) => l['msg']).filter((m) => m !== undefined);
  assert.deepEqual(messages.slice(-2), ['closing the database failed', 'stopped']);
});

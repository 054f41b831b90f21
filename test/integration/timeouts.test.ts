// Slow or stalled clients are cut off. Production uses 10 s for headers and the whole request;
// these tests shorten it so they stay fast, and check the production values separately.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { TIMEOUT_MS } from '../../src/service.ts';
import { startTestService } from '../helpers/service.ts';

function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
  });
}

test('the server runs with 10 s header and request timeouts by default', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  assert.equal(TIMEOUT_MS, 10_000);
  assert.equal(svc.server.headersTimeout, 10_000);
  assert.equal(svc.server.requestTimeout, 10_000);
});

test('a client that never finishes its headers gets a JSON 408 and the connection is closed', async (t) => {
  const svc = await startTestService({ timeoutMs: 300 });
  t.after(() => svc.stop());
  const raw = await exchange(svc.port, 'GET /messages HTTP/1.1\r\nHost: x\r\n');
  const [head = '', body] = raw.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 408 /);
  assert.match(head, /\r\nContent-Type: application\/json\r\n/i);
  assert.equal(body, '{"detail":"request timeout"}');
  const line = svc.accessLogs().find((l) => l['status'] === 408);
  assert.equal(line?.['level'], 'warn');
});

test('a client that stalls mid-body is cut off and nothing is stored', async (t) => {
  const svc = await startTestService({ timeoutMs: 300 });
  t.after(() => svc.stop());
  const raw = await exchange(svc.port, 'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"message_id":');
  assert.doesNotMatch(raw, /^HTTP\/1\.1 200 /);
  const stats = await (await svc.get('/stats')).json();
  assert.deepEqual(stats, { total_messages: 0, senders_count: 0, messages_per_sender: [], first_message_ts: null, last_message_ts: null });
});

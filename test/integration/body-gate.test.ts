// Bodies still arriving before their signature is checked are bounded apart from verified work:
// stalled uploads cannot keep signed deliveries out. Limits are shortened here; the production
// values are in src/http/body-gate.ts (BODY_GATE_DEFAULTS) and RELIABILITY.md's 10,000-connection run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BODY_GATE_DEFAULTS } from '../../src/http/body-gate.ts';
import { converse } from '../helpers/raw-conversation.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, freshService, message, signBody } from '../helpers/service.ts';

type Stalled = { socket: Socket; received: () => string; closed: Promise<void> };

/** A POST /webhook that declares 1,000 bytes, sends one, and stalls. */
function stall(port: number): Promise<Stalled> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => {
      socket.write(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nX-Signature: ${'a'.repeat(64)}\r\n\r\n{`);
      resolve({ socket, received: () => received, closed });
    });
  });
}

test('the production limits are the documented ones', () => {
  assert.deepEqual(BODY_GATE_DEFAULTS, { maxActive: 16, maxReaders: 256, maxBytes: 32 * 1024 * 1024, deadlineMs: 5_000, graceMs: 100, minBytesPerSecond: 16 * 1024 });
});

test('stalled uploads hold no place a signed delivery needs; the slowest are cut to make room, the rest at the deadline', async (t) => {
  // The gate reads a monotonic clock that the test moves, so "past the grace" and "past the
  // deadline" do not depend on how fast this machine is.
  let monotonic = 0;
  const clock = { now: () => new Date(), monotonicMs: () => monotonic };
  const svc = await freshService(t, { clock, bodyGate: { maxReaders: 8, deadlineMs: 1_500 } });
  const stalled: Stalled[] = [];
  t.after(() => stalled.forEach((s) => s.socket.destroy()));
  for (let i = 0; i < 30; i += 1) stalled.push(await stall(svc.port));
  await sleep(100);
  // Beyond the 8 places, uploads were refused at once with 503 server busy.
  const busy = stalled.filter((s) => s.received().startsWith('HTTP/1.1 503 '));
  assert.equal(busy.length, 22);
  assert.ok(busy.every((s) => s.received().includes('{"detail":"server busy"}')));
  // Their bodies are not read: the connection closes after the 503.
  await Promise.all(busy.map((s) => s.closed));

  // A signed delivery whose body came with its headers needs no place: answered at once.
  let started = performance.now();
  const small = await svc.deliver(message({ message_id: 'gate-small' }));
  assert.equal(small.status, 200);
  await small.body?.cancel();
  assert.ok(performance.now() - started < 1_000);

  // A signed body that arrives in two packets needs a place: the slowest stalled upload (one byte
  // in over 100 ms) is cut with a 408 to make room.
  monotonic += 200;
  const big = JSON.stringify(message({ message_id: 'gate-big', pad: 'p'.repeat(50_000) }));
  const head = `POST /webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Signature: ${signBody(big)}\r\nContent-Length: ${Buffer.byteLength(big)}\r\n\r\n`;
  started = performance.now();
  const delivered = await converse(svc.port, [head + big.slice(0, 100), big.slice(100)], { gapMs: 30 });
  assert.equal(delivered.responses[0]?.status, 200, delivered.raw);
  assert.ok(performance.now() - started < 1_000);
  const evicted = stalled.filter((s) => s.received().startsWith('HTTP/1.1 408 '));
  assert.equal(evicted.length, 1);
  assert.ok(evicted[0]?.received().includes('{"detail":"request timeout"}'));

  // The other admitted uploads are cut at the deadline, with a 408, and their connections closed.
  const admitted = stalled.filter((s) => s.received() === '');
  assert.equal(admitted.length, 7);
  monotonic += 2_000;
  await Promise.all(admitted.map((s) => s.closed));
  assert.ok(admitted.every((s) => s.received().startsWith('HTTP/1.1 408 ')));

  const metrics = await scrape(svc);
  assert.equal(metricValue(metrics, 'http_unverified_bodies_refused_total{reason="full"}'), 22);
  assert.equal(metricValue(metrics, 'http_unverified_bodies_refused_total{reason="evicted"}'), 1);
  assert.equal(metricValue(metrics, 'http_unverified_bodies_refused_total{reason="deadline"}'), 7);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="body_timeout"}'), 8);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="overloaded"}'), 22);
  assert.equal(metricValue(metrics, 'webhook_requests_total{result="created"}'), 2);
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 2);
});

test('what cannot pass is refused before its body is read', async (t) => {
  const svc = await freshService(t);
  // Only the headers are sent: the answer cannot have waited for the body.
  for (const [signature, status] of [['', 401], ['X-Signature: nothex\r\n', 401], [`X-Signature: ${'A'.repeat(63)}\r\n`, 401]] as const) {
    const got = await converse(svc.port, [`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n${signature}\r\n`], { timeoutMs: 2_000, responses: 1 });
    assert.equal(got.responses[0]?.status, status, got.raw);
    assert.deepEqual(JSON.parse(got.responses[0]?.body ?? ''), { detail: 'invalid signature' });
  }
  const none = await freshService(t, { env: { WEBHOOK_SECRET: '' } });
  const got = await converse(none.port, [`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nX-Signature: ${'a'.repeat(64)}\r\n\r\n`], { timeoutMs: 2_000, responses: 1 });
  assert.equal(got.responses[0]?.status, 503);
  // The 413 still comes first.
  const tooBig = await converse(svc.port, [`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: ${svc.config.maxBodyBytes + 1}\r\n\r\n`], { timeoutMs: 2_000, responses: 1 });
  assert.equal(tooBig.responses[0]?.status, 413);
});

type Upload = { socket: Socket; received: () => string; error: () => string | null; closed: Promise<number> };

/** A POST /webhook without a signature declaring `length` bytes, of which `first` are sent with the headers. */
function upload(port: number, length: number, first: number): Upload {
  // Half-open allowed: the server's FIN after its answer does not end our sending, as with an HTTP
  // client still writing its body.
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let received = '';
  let error: string | null = null;
  const started = performance.now();
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
  const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - started)));
  socket.write(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
  socket.write(Buffer.alloc(first, 0x20));
  return { socket, received: () => received, error: () => error, closed };
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) assert.fail(`waited ${ms} ms for ${what}`);
    await sleep(10);
  }
}

test('a body refused unread closes in stages (RFC 9112 §9.6): a client still sending reads its 401 and is not reset; a stalled one is let go', async (t) => {
  const svc = await freshService(t);
  const length = 200_000; // over the 64 KiB below which a refused body is read and dropped on a kept connection
  // Still sending after its answer: the rest of the body is read and dropped, then the connection
  // ends with a FIN. Closed at once, the unread bytes would make the kernel send a reset, and the
  // next write fail (EPIPE or ECONNRESET) with the answer possibly lost.
  const sending = upload(svc.port, length, 16 * 1024);
  await until('the 401', () => sending.received().includes('"invalid signature"'));
  assert.match(sending.received(), /^HTTP\/1\.1 401 [^\r]*\r\n[^]*connection: close\r\n/i);
  for (let sent = 16 * 1024; sent < length; sent += 8 * 1024) {
    sending.socket.write(Buffer.alloc(Math.min(8 * 1024, length - sent), 0x20));
    await sleep(5);
  }
  sending.socket.end();
  await sending.closed;
  assert.equal(sending.error(), null, 'the client was reset');

  // Stalled after its answer: let go after the idle second, not held until the request timeout.
  const connections = (): Promise<number> => new Promise((resolve, reject) => svc.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  const stalled = upload(svc.port, length, 1);
  await until('the 401', () => stalled.received().includes('"invalid signature"'));
  const answered = performance.now();
  assert.equal(await connections(), 1, 'lingering');
  while ((await connections()) > 0) {
    assert.ok(performance.now() - answered < 4_000, 'a stalled connection still open 4 s after its answer');
    await sleep(20);
  }
  t.diagnostic(`a stalled connection closed ${Math.round(performance.now() - answered)} ms after its answer`);

  // A shutdown does not wait for a connection still dropping a body: its answer is out.
  const dripping = upload(svc.port, length, 1);
  const drip = setInterval(() => dripping.socket.write(' '), 50);
  t.after(() => clearInterval(drip));
  await until('the 401', () => dripping.received().includes('"invalid signature"'));
  await sleep(300);
  const stopping = performance.now();
  await svc.shutdown('test');
  assert.ok(performance.now() - stopping < 900, `shutdown took ${Math.round(performance.now() - stopping)} ms`);
});

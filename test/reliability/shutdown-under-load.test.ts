// SIGTERM to the real service under load, with live-tail streams open: readiness turns 503, new
// connections are refused, the streams end at once, the requests already accepted are answered
// (and stored when the answer was 200), the process exits 0 within the drain limit, and the
// database reopens clean with every acknowledged message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_SHUTDOWN_GRACE_SECONDS } from '../../src/config.ts';
import { sign } from '../../src/webhook/signature.ts';
import { startChildService, withinMs } from '../helpers/child-service.ts';
import { reportFigures } from '../helpers/figures.ts';
import { createPool } from '../helpers/http-client.ts';
import { message, tempDir } from '../helpers/service.ts';
import { openSse } from '../helpers/sse.ts';

const SECRET = 'Shutdown-S3cret-a61c';
const SHUTDOWN_GRACE_MS = DEFAULT_SHUTDOWN_GRACE_SECONDS * 1000;

type Pending = { socket: Socket; answer: Promise<string> };

/** Sends the first part of a request and returns the socket and everything the server will send. */
function startRequest(port: number, firstPart: string): Promise<Pending> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(firstPart, () => resolve({ socket, answer }));
    });
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    const answer = new Promise<string>((r) => socket.on('close', () => r(received)));
  });
}

/** The service logs "shutting down" just before it closes the listener, so allow it a moment. */
async function refusedSoon(port: number): Promise<string> {
  let outcome = await refused(port);
  for (let i = 0; i < 40 && outcome !== 'ECONNREFUSED'; i += 1) {
    await sleep(50);
    outcome = await refused(port);
  }
  return outcome;
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

test('SIGTERM under load with streams open: ready 503, no new connections, streams ended at once, accepted requests answered and stored, exit 0, clean reopen', { timeout: 45_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'drain.db');
  const env = { WEBHOOK_SECRET: SECRET, DATABASE_URL: dbPath };
  const child = await startChildService(t, env);
  const { port } = child;

  // Requests in progress when the signal arrives: bodies half sent, and a readiness check whose
  // headers are not finished yet.
  const slow = await Promise.all(Array.from({ length: 5 }, async (_, i) => {
    const body = JSON.stringify(message({ message_id: `in-flight-${i}`, text: 'DRAIN-TEXT' }));
    const pending = await startRequest(port, `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Signature: ${sign(SECRET, body)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`);
    return { ...pending, rest: body.slice(20), id: `in-flight-${i}` };
  }));
  const readiness = await startRequest(port, 'GET /health/ready HTTP/1.1\r\nHost: x\r\n');
  // Live tails that never end by themselves.
  const streams = await Promise.all(Array.from({ length: 10 }, (_, i) => openSse(`http://127.0.0.1:${port}/messages/stream`, i % 2 === 0 ? { 'Last-Event-ID': '0' } : {})));
  t.after(() => streams.forEach((s) => s.close()));
  assert.ok(streams.every((s) => s.status === 200));

  // Load from 16 keep-alive connections.
  const pool = createPool(port, 16);
  t.after(() => pool.close());
  const acked = new Set<string>();
  const outcomes = new Map<string, number>();
  let stop = false;
  t.after(() => (stop = true));
  const running = (): boolean => !stop && child.proc.exitCode === null && child.proc.signalCode === null;
  let n = 0;
  const load = Array.from({ length: 16 }, async () => {
    while (running()) {
      const body = JSON.stringify(message({ message_id: `load-${(n += 1)}` }));
      const res = await pool.send('POST', '/webhook', body, { 'Content-Type': 'application/json', 'X-Signature': sign(SECRET, body) });
      const key = 'error' in res ? res.error : String(res.status);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (res.status === 200) acked.add((JSON.parse(body) as { message_id: string }).message_id);
      if (res.status === 0) await sleep(5);
    }
  });
  await sleep(300);

  const signalled = performance.now();
  child.proc.kill('SIGTERM');
  await child.waitForLine((l) => l['msg'] === 'shutting down');
  const streamEnds = await withinMs(3_000, 'the streams to end', Promise.all(streams.map((s) => s.ended)));
  assert.deepEqual(streamEnds, streams.map(() => true), 'each stream ended cleanly (its client resumes with Last-Event-ID)');
  const streamsMs = performance.now() - signalled;
  assert.equal(await withinMs(5_000, 'a connection attempt', refusedSoon(port)), 'ECONNREFUSED', 'no new connections');

  readiness.socket.write('\r\n');
  const ready = await withinMs(5_000, 'the readiness answer', readiness.answer);
  assert.match(ready, /^HTTP\/1\.1 503 /);
  assert.ok(ready.endsWith('{"status":"not ready","reasons":["shutting down"]}'), ready);

  for (const s of slow) s.socket.write(s.rest);
  const slowAnswers = await withinMs(5_000, 'the in-flight answers', Promise.all(slow.map((s) => s.answer)));
  for (const a of slowAnswers) {
    assert.match(a, /^HTTP\/1\.1 200 /);
    assert.match(a, /\r\nConnection: close\r\n/i);
  }

  const exit = await withinMs(SHUTDOWN_GRACE_MS + 5_000, 'exit', child.exited);
  const exitMs = performance.now() - signalled;
  stop = true;
  await withinMs(20_000, 'the load to stop', Promise.all(load));
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(exitMs < SHUTDOWN_GRACE_MS, `exited ${exitMs} ms after SIGTERM`);
  assert.deepEqual([...outcomes.keys()].filter((k) => /^[0-9]+$/.test(k) && k !== '200'), [], 'only 200s or refused connections');
  const log = child.output();
  assert.ok(log.includes('"msg":"stopped"'));
  assert.equal(child.lines().filter((l) => l['path'] === '/messages/stream' && l['stream_end'] === 'shutdown').length, 10);
  assert.ok(!log.includes(SECRET) && !log.includes('DRAIN-TEXT'));

  // Reopen: the file is clean and has every acknowledged message.
  const db = new DatabaseSync(dbPath);
  assert.equal(String(db.prepare('PRAGMA integrity_check').get()?.['integrity_check']), 'ok');
  const ids = new Set(db.prepare('SELECT message_id FROM messages').all().map((r) => String(r['message_id'])));
  db.close();
  for (const s of slow) assert.ok(ids.has(s.id), `${s.id} stored`);
  const lost = [...acked].filter((id) => !ids.has(id));
  assert.deepEqual(lost, []);
  const again = await startChildService(t, env);
  const stats = await (await fetch(`http://127.0.0.1:${again.port}/stats`)).json() as { total_messages: number };
  assert.equal(stats.total_messages, ids.size);
  again.proc.kill('SIGTERM');
  assert.deepEqual(await withinMs(15_000, 'exit', again.exited), { code: 0, signal: null });

  reportFigures(t, 'graceful-shutdown', { acknowledged: acked.size + slow.length, lost: lost.length, exit_ms: Math.round(exitMs), streams_open: streams.length, streams_ended_ms: Math.round(streamsMs), outcomes: Object.fromEntries(outcomes) });
});

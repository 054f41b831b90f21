// The real entry point (src/main.ts) as a child process: configuration errors, start-up, signals and
// graceful shutdown, and what reaches stdout/stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sign } from '../../src/webhook/signature.ts';
import { spawnChild, withinMs, type Child } from '../helpers/child-service.ts';
import { message } from '../helpers/service.ts';

type TestContext = { after(fn: () => unknown): void };

const ROOT = resolve(import.meta.dirname, '..', '..');
const WAIT_MS = 10_000;
const CHILD_SECRET = 'Pr0cess-Test-S3cret-7f3a9c';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-process-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Bounded: rejects after WAIT_MS so a hung request fails the test instead of stalling it. */
function within<T>(what: string, promise: Promise<T>, describe: () => string): Promise<T> {
  return withinMs(WAIT_MS, `${what}\n${describe()}`, promise);
}

function startChild(t: TestContext, env: Record<string, string>, options: { cwd?: string } = {}): Child {
  return spawnChild(t, env, options);
}

/** Starts a healthy child on a free port and returns it with its port. */
async function startListening(t: TestContext, extraEnv: Record<string, string> = {}): Promise<{ child: Child; port: number; dbPath: string }> {
  const dir = tempDir(t);
  const dbPath = join(dir, 'app.db');
  const child = startChild(t, { WEBHOOK_SECRET: CHILD_SECRET, DATABASE_URL: `sqlite:///${dbPath}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'INFO', ...extraEnv });
  const listening = await child.waitFor('the listening line', (l) => l['msg'] === 'listening');
  const port = listening['port'];
  assert.equal(typeof port, 'number');
  assert.ok(typeof port === 'number' && port > 0);
  return { child, port: port as number, dbPath };
}

async function deliver(port: number, body: string, signature = sign(CHILD_SECRET, body)): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/webhook`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', 'X-Signature': signature },
  });
  return { status: res.status, body: await res.text() };
}

/** The error code of a fresh TCP connection attempt ("connected" when it succeeds). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolveCode) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolveCode('connected');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolveCode(e.code ?? 'error'));
  });
}

/**
 * Connection attempts until one is refused (bounded). The "shutting down" line is written just
 * before the listener closes, so an attempt made in that instant may still reach the backlog.
 */
async function refusedSoon(port: number): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  let code = await tryConnect(port);
  while (code !== 'ECONNREFUSED' && Date.now() < deadline) {
    await new Promise<void>((r) => setImmediate(r));
    code = await tryConnect(port);
  }
  return code;
}

function assertAllJson(stdout: string): void {
  const lines = stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0);
  for (const line of lines) {
    const parsed: unknown = JSON.parse(line);
    assert.equal(typeof parsed, 'object', line);
    assert.ok(parsed !== null && !Array.isArray(parsed), line);
  }
}

test('invalid configuration exits 2 with one line per problem, no stack trace, no credentials', async (t) => {
  const child = startChild(t, { PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'postgres://u:pw@h/db?sslmode=sometimes', WEBHOOK_SECRET: CHILD_SECRET });
  const exit = await child.waitExit();
  assert.deepEqual(exit, { code: 2, signal: null });
  const output = `${child.stdout()}${child.stderr()}`;
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 3, output);
  for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL']) {
    const naming = lines.filter((l) => new RegExp(`\\b${name}\\b`).test(l));
    assert.equal(naming.length, 1, `${name} is named on exactly one line:\n${output}`);
  }
  assert.ok(!output.includes('    at '), 'no stack trace');
  assert.ok(!output.includes('pw'), 'the database password is not printed');
  assert.ok(!output.includes(CHILD_SECRET), 'the secret is not printed');
});

test('SIGTERM: in-flight request finishes and is stored, new connections are refused, exit 0', async (t) => {
  const { child, port, dbPath } = await startListening(t);

  const first = await deliver(port, JSON.stringify(message({ message_id: 'before-signal' })));
  assert.deepEqual(first, { status: 200, body: '{"status":"ok"}' });

  // A slow client: headers (with Expect: 100-continue so we know the server has the request) and
  // half of the body, then the signal, then the rest.
  const payload = Buffer.from(JSON.stringify(message({ message_id: 'in-flight', text: 'x'.repeat(2000) })));
  const half = Math.floor(payload.length / 2);
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/webhook',
    agent: false,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(payload.length),
      'X-Signature': sign(CHILD_SECRET, payload),
      Expect: '100-continue',
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolveRes, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolveRes({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const describe = (): string => `stdout:\n${child.stdout()}\nstderr:\n${child.stderr()}`;
  const continued = new Promise<void>((resolveContinue) => req.once('continue', () => resolveContinue()));
  req.flushHeaders();
  await within('100 Continue', continued, describe);
  await new Promise<void>((resolveWrite, reject) => req.write(payload.subarray(0, half), (e) => (e ? reject(e) : resolveWrite())));

  assert.ok(child.proc.kill('SIGTERM'));
  await child.waitFor('the shutting down line', (l) => l['msg'] === 'shutting down');
  assert.equal(await refusedSoon(port), 'ECONNREFUSED', 'no new connections after SIGTERM');
  assert.equal(child.proc.exitCode, null, 'still running: the in-flight request holds the shutdown open');

  req.end(payload.subarray(half));
  assert.deepEqual(await within('the in-flight response', response, describe), { status: 200, body: '{"status":"ok"}' });

  assert.deepEqual(await child.waitExit(), { code: 0, signal: null });
  assertAllJson(child.stdout());
  const msgs = child.lines().map((l) => l['msg']);
  assert.ok(msgs.includes('shutting down'));
  assert.ok(msgs.includes('stopped'));
  assert.ok(msgs.indexOf('shutting down') < msgs.indexOf('stopped'));
  const access = child.lines().filter((l) => l['path'] === '/webhook');
  assert.deepEqual(access.map((l) => [l['status'], l['message_id'], l['result']]), [
    [200, 'before-signal', 'created'],
    [200, 'in-flight', 'created'],
  ]);

  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const rows = db.prepare('SELECT message_id, length(text) AS n FROM messages ORDER BY message_id').all();
    assert.deepEqual(rows.map((r) => [r['message_id'], r['n']]), [
      ['before-signal', 5],
      ['in-flight', 2000],
    ]);
  } finally {
    db.close();
  }
});

test('SIGINT also shuts down cleanly with exit 0', async (t) => {
  const { child, port } = await startListening(t);
  const live = await fetch(`http://127.0.0.1:${port}/health/live`);
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { status: 'ok' });
  assert.ok(child.proc.kill('SIGINT'));
  assert.deepEqual(await child.waitExit(), { code: 0, signal: null });
  assertAllJson(child.stdout());
  const msgs = child.lines().map((l) => l['msg']);
  assert.ok(msgs.includes('shutting down'));
  assert.ok(msgs.includes('stopped'));
  assert.equal(child.lines().find((l) => l['msg'] === 'shutting down')?.['reason'], 'SIGINT');
});

test('the secret and the signature never appear in stdout or stderr', async (t) => {
  const { child, port } = await startListening(t, { LOG_LEVEL: 'DEBUG' });
  const body = JSON.stringify(message({ message_id: 'secret-check', text: 'private words' }));
  const signature = sign(CHILD_SECRET, body);
  assert.equal((await deliver(port, body, signature)).status, 200);
  assert.equal((await deliver(port, body, signature)).status, 200);
  assert.equal((await deliver(port, body, sign('wrong', body))).status, 401);
  assert.equal((await deliver(port, JSON.stringify({ message_id: 'no-fields' }))).status, 422);
  for (const path of ['/health/ready', '/metrics', '/stats', '/messages']) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
  assert.ok(child.proc.kill('SIGTERM'));
  assert.deepEqual(await child.waitExit(), { code: 0, signal: null });
  const output = `${child.stdout()}\n${child.stderr()}`;
  assert.ok(child.lines().some((l) => l['path'] === '/webhook' && l['status'] === 401), 'the traffic was logged');
  assert.ok(!output.includes(CHILD_SECRET), 'the secret is not printed');
  assert.ok(!output.includes(signature), 'the signature is not printed');
  assert.ok(!output.includes('private words'), 'message text is not printed');
});

test('a relative sqlite URL is resolved against the working directory and its folder is created', async (t) => {
  const cwd = tempDir(t);
  const child = startChild(t, { WEBHOOK_SECRET: CHILD_SECRET, DATABASE_URL: 'sqlite:///nested/deeper/app.db', PORT: '0', HOST: '127.0.0.1' }, { cwd });
  const listening = await child.waitFor('the listening line', (l) => l['msg'] === 'listening');
  assert.ok(existsSync(join(cwd, 'nested', 'deeper', 'app.db')), 'database created under the working directory');
  assert.ok(!existsSync(join(ROOT, 'nested')), 'not created next to the source');
  const res = await fetch(`http://127.0.0.1:${String(listening['port'])}/health/ready`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ready' });
  assert.ok(child.proc.kill('SIGTERM'));
  assert.deepEqual(await child.waitExit(), { code: 0, signal: null });
});

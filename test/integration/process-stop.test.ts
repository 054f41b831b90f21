// SHUTDOWN_GRACE_SECONDS on the real entry point: a request that never completes holds the stop
// open only for the grace period, then its connection is closed, the database is closed and the
// process exits 0 with the `stopped` line. The default (8 s) is what lets `docker stop` (10 s before
// SIGKILL) end in exit 0; test/ops/container.test.ts checks that against the real image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild } from '../helpers/child-service.ts';

test('SIGTERM with a stalled request in flight: the drain ends after SHUTDOWN_GRACE_SECONDS, exit 0', { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-stop-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawnChild(t, { WEBHOOK_SECRET: 's', DATABASE_URL: join(dir, 'app.db'), PORT: '0', HOST: '127.0.0.1', SHUTDOWN_GRACE_SECONDS: '1' });
  const port = Number((await child.waitFor('the listening line', (l) => l['msg'] === 'listening'))['port']);

  // Headers and part of a body that never completes; "100 Continue" says the handler has it.
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const continued = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n{"message');
  await continued;

  assert.ok(child.proc.kill('SIGTERM'));
  assert.deepEqual(await child.waitExit(), { code: 0, signal: null });
  await closed;
  const lines = child.lines();
  const at = (msg: string): number => Date.parse(String(lines.find((l) => l['msg'] === msg)?.['ts']));
  assert.deepEqual(lines.map((l) => l['msg']).filter((m) => m !== undefined).slice(-3), ['shutting down', 'grace period over, closing open connections', 'stopped']);
  // The grace period, not the 10 s request timeout, ended the stall.
  const drainMs = at('grace period over, closing open connections') - at('shutting down');
  assert.ok(drainMs >= 900 && drainMs < 5_000, `the drain took ${drainMs} ms with SHUTDOWN_GRACE_SECONDS=1`);
  assert.equal(child.stderr(), '');
});

test('an invalid SHUTDOWN_GRACE_SECONDS stops the start with exit 2 and one line', async (t) => {
  const child = spawnChild(t, { DATABASE_URL: ':memory:', PORT: '0', SHUTDOWN_GRACE_SECONDS: '0' });
  assert.deepEqual(await child.waitExit(), { code: 2, signal: null });
  assert.match(child.stderr(), /^\{[^\n]*"msg":"invalid configuration: SHUTDOWN_GRACE_SECONDS: must be a whole number from 1 to 600"\}\n$/);
});

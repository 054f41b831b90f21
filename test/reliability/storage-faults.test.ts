// Storage faults against real SQLite files. A full disk is simulated deterministically with
// PRAGMA max_page_count on the service's own connection (the store's maxPageCount option) plus a
// ballast table that a second connection fills and later empties: "space returns" without a
// restart. (A read-only file cannot be simulated here: CI runs as root, which ignores file modes.)
// A lock held by another process is waited on up to busy_timeout, then 503.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { performance } from 'node:perf_hooks';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import { reportFigures } from '../helpers/figures.ts';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, message, startTestService, tempDir, type TestService } from '../helpers/service.ts';

const PAGE_LIMIT = 96;

async function statusAndBody(res: Response): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await bodyOf(res) };
}

async function readiness(svc: TestService): Promise<{ status: number; body: unknown }> {
  const res = await svc.get('/health/ready');
  return { status: res.status, body: await bodyOf(res) };
}

test('a full disk: 503 "storage unavailable" + Retry-After, never 200; not ready; reads work; recovers without a restart', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'full.db');
  const { store } = await openWorkerStore({ path: dbPath, now: () => new Date(), maxPageCount: PAGE_LIMIT });
  const svc = await startTestService({ store, dbPath });
  t.after(() => svc.stop());

  // Another connection (not capped) fills the file to just under the cap.
  const other = new DatabaseSync(dbPath);
  t.after(() => other.isOpen && other.close());
  other.exec('CREATE TABLE ballast (b BLOB)');
  const fill = other.prepare('INSERT INTO ballast VALUES (randomblob(3000))');
  const pages = (): number => Number(other.prepare('PRAGMA page_count').get()?.['page_count']);
  while (pages() < PAGE_LIMIT - 12) fill.run();

  // Large messages (4,096 code points) until the disk is full.
  const big = (i: number): Record<string, unknown> => message({ message_id: `full-${i}`, text: `FULL-DISK-TEXT-${i}-`.padEnd(4096, 'é') });
  const accepted: Record<string, unknown>[] = [];
  let refused: Record<string, unknown> | undefined;
  for (let i = 0; i < 40 && refused === undefined; i += 1) {
    const m = big(i);
    const res = await svc.deliver(m);
    if (res.status === 200) {
      accepted.push(m);
      await res.body?.cancel();
    } else {
      assert.deepEqual(await statusAndBody(res), { status: 503, retryAfter: '1', body: { detail: 'storage unavailable' } });
      refused = m;
    }
  }
  assert.ok(refused !== undefined, 'the disk filled up');
  assert.ok(accepted.length > 0, 'some deliveries fit before it did');

  // While full: the same delivery keeps failing with 503, readiness says why, reads still work.
  for (let i = 0; i < 3; i += 1) {
    assert.deepEqual(await statusAndBody(await svc.deliver(refused)), { status: 503, retryAfter: '1', body: { detail: 'storage unavailable' } });
  }
  assert.deepEqual(await readiness(svc), { status: 503, body: { status: 'not ready', reasons: ['database not writable'] } });
  assert.deepEqual(await readiness(svc), { status: 503, body: { status: 'not ready', reasons: ['database not writable'] } });
  const live = await svc.get('/health/live');
  assert.equal(live.status, 200);
  await live.body?.cancel();
  const list = await bodyOf(await svc.get('/messages?limit=100'));
  assert.deepEqual(list.data.map((r: { message_id: string }) => r.message_id), accepted.map((m) => m['message_id']));
  const stats = await svc.get('/stats');
  assert.equal(stats.status, 200);
  assert.equal((await bodyOf(stats)).total_messages, accepted.length);
  // One error line with the stack for the whole burst, not one per refused delivery.
  const failedLines = svc.logs.filter((l) => l['msg'] === 'storage write failed');
  assert.equal(failedLines.length, 1);
  const failedErr = failedLines[0]?.['err'] as Record<string, unknown> | undefined;
  assert.match(String(failedErr?.['message']), /full/);
  assert.match(String(failedErr?.['stack']), /full/);

  // Space returns (the ballast is deleted by the other connection): ready again with no delivery in
  // between, then the refused message is accepted on retry. No restart.
  other.exec('DELETE FROM ballast');
  assert.deepEqual(await readiness(svc), { status: 200, body: { status: 'ready' } });
  assert.deepEqual(await statusAndBody(await svc.deliver(refused)), { status: 200, retryAfter: null, body: { status: 'ok' } });
  const after = await bodyOf(await svc.get('/messages?limit=100'));
  assert.equal(after.total, accepted.length + 1);
  assert.equal(after.data.find((r: { message_id: string }) => r.message_id === refused['message_id'])?.text, refused['text']);
  // The readiness probe's rows never became visible.
  assert.equal(Number(other.prepare("SELECT COUNT(*) AS n FROM messages WHERE message_id LIKE 'readiness-probe-%'").get()?.['n']), 0);
  assert.equal(String(other.prepare('PRAGMA integrity_check').get()?.['integrity_check']), 'ok');

  // The burst ended with the first success: one summary line counts the repeats, without a stack.
  const summary = svc.logs.filter((l) => l['msg'] === 'storage write failed (repeated)');
  assert.deepEqual(summary.map((l) => l['repeated']), [3]);
  assert.equal((summary[0]?.['err'] as Record<string, unknown> | undefined)?.['stack'], undefined);

  const metrics = await scrape(svc);
  const unavailable = metricValue(metrics, 'webhook_requests_total{result="unavailable"}');
  assert.equal(unavailable, 4);
  assert.equal(metricValue(metrics, 'storage_errors_total{op="insert"}'), 4);
  assert.equal(metricValue(metrics, 'http_requests_total{path="/webhook",status="200"}'), accepted.length + 1);
  reportFigures(t, 'storage-full-disk', { accepted_before_full: accepted.length, refused_503: unavailable, wrong_200: 0, recovered_without_restart: true });
});

test('restarted on a full disk: readiness says "database not writable" before any delivery, and recovers', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'restart-full.db');
  const first = await openWorkerStore({ path: dbPath, now: () => new Date() });
  await first.store.close();
  // The disk fills while the service is down.
  const other = new DatabaseSync(dbPath);
  t.after(() => other.isOpen && other.close());
  other.exec('CREATE TABLE ballast (b BLOB)');
  const fill = other.prepare('INSERT INTO ballast VALUES (randomblob(3000))');
  while (Number(other.prepare('PRAGMA page_count').get()?.['page_count']) < PAGE_LIMIT - 2) fill.run();

  const { store } = await openWorkerStore({ path: dbPath, now: () => new Date(), maxPageCount: PAGE_LIMIT });
  const svc = await startTestService({ store, dbPath });
  t.after(() => svc.stop());
  // The first readiness check, before any delivery was tried.
  assert.deepEqual(await readiness(svc), { status: 503, body: { status: 'not ready', reasons: ['database not writable'] } });
  const stats = await svc.get('/stats');
  assert.equal(stats.status, 200, 'reads still work');
  await stats.body?.cancel();

  other.exec('DELETE FROM ballast');
  assert.deepEqual(await readiness(svc), { status: 200, body: { status: 'ready' } });
  const res = await svc.deliver(message({ message_id: 'after-restart-full' }));
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

/** Another process takes the write lock, reports it, holds it for `holdMs`, then releases it. */
async function holdLock(dbPath: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const script = `
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, Number(process.argv[2]));`;
  const child = spawn(process.execPath, ['-e', script, dbPath, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', () => reject(new Error('lock holder exited early')));
  });
  return { released: exited };
}

test('a lock held by another process is waited on up to busy_timeout: a short one gives 200, a long one 503', async (t) => {
  const busyTimeoutMs = 1_500;
  const svc = await startTestService({ busyTimeoutMs });
  t.after(() => svc.stop());
  const warm = await svc.deliver(message());
  assert.equal(warm.status, 200);
  await warm.body?.cancel();

  // Held for 300 ms: the delivery waits for it and is stored.
  const short = await holdLock(svc.dbPath, 300);
  let started = performance.now();
  const waited = await svc.deliver(message({ message_id: 'waited-for-lock' }));
  const waitedMs = performance.now() - started;
  assert.equal(waited.status, 200);
  await waited.body?.cancel();
  assert.ok(waitedMs >= 150, `waited ${waitedMs} ms for the lock`);
  await short.released;

  // Held for 2.5 s: the delivery gives up after busy_timeout with a 503, and nothing is stored.
  const long = await holdLock(svc.dbPath, 2_500);
  started = performance.now();
  const refused = await svc.deliver(message({ message_id: 'refused-by-lock' }));
  const refusedMs = performance.now() - started;
  assert.deepEqual(await statusAndBody(refused), { status: 503, retryAfter: '1', body: { detail: 'storage unavailable' } });
  assert.ok(refusedMs >= busyTimeoutMs * 0.9 && refusedMs < 2_400, `gave up after ${refusedMs} ms`);
  // A passing lock is not a broken disk: readers still answer and readiness stays 200.
  assert.deepEqual(await readiness(svc), { status: 200, body: { status: 'ready' } });
  await long.released;

  const retried = await svc.deliver(message({ message_id: 'refused-by-lock' }));
  assert.equal(retried.status, 200);
  await retried.body?.cancel();
  const ids = (await bodyOf(await svc.get('/messages?limit=100'))).data.map((r: { message_id: string }) => r.message_id);
  assert.ok(ids.includes('waited-for-lock') && ids.includes('refused-by-lock'));
  reportFigures(t, 'storage-lock', { busy_timeout_ms: busyTimeoutMs, waited_ms: Math.round(waitedMs), gave_up_after_ms: Math.round(refusedMs) });
});

// Group commit: one transaction carries many deliveries, yet each gets its own outcome, and a
// failure of the transaction itself fails exactly the deliveries in it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { instantKey } from '../../src/domain/timestamp.ts';
import { openDatabase, type Database } from '../../src/storage/sqlite/database.ts';
import type { NewMessage } from '../../src/storage/store.ts';
import { bodyOf, message, startTestService, tempDir } from '../helpers/service.ts';

function newMessage(id: string, text: string | null = 'hello'): NewMessage {
  const ts = '2025-01-15T10:00:00Z';
  const tsKey = instantKey(ts);
  assert.ok(tsKey !== null);
  return { messageId: id, from: '+15550001111', to: '+15550002222', ts, tsKey, text, createdAt: '2025-01-15T10:00:01Z' };
}

function writer(t: TestContext, busyTimeoutMs = 2_000): { db: Database; path: string } {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'app.db');
  const { db } = openDatabase({ path, busyTimeoutMs, role: 'writer' });
  t.after(() => db.close());
  return { db, path };
}

/** An operator's trigger that refuses some rows: a failure of one statement, not of the transaction. */
function poison(path: string): void {
  const other = new DatabaseSync(path);
  other.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON messages WHEN NEW.message_id LIKE 'poison%'
              BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END`);
  other.close();
}

const outcomes = (results: readonly { ok: boolean; created?: boolean }[]): string[] =>
  results.map((r) => (!r.ok ? 'failed' : r.created === true ? 'created' : 'duplicate'));

test('one batch mixing new, duplicate and failing inserts answers each on its own', (t) => {
  const { db, path } = writer(t);
  assert.deepEqual(outcomes(db.insertBatch([newMessage('old')])), ['created']);
  poison(path);

  const results = db.insertBatch([newMessage('a'), newMessage('old', 'other text'), newMessage('poison-1'), newMessage('b'), newMessage('a')]);
  assert.deepEqual(outcomes(results), ['created', 'duplicate', 'failed', 'created', 'duplicate']);
  const failed = results[2];
  assert.ok(failed !== undefined && !failed.ok);
  assert.match(String(failed.error), /refused by trigger/);

  const rows = new DatabaseSync(path, { readOnly: true });
  t.after(() => rows.close());
  const stored = rows.prepare('SELECT message_id, text FROM messages ORDER BY message_id').all().map((r) => ({ ...r }));
  assert.deepEqual(stored, [{ message_id: 'a', text: 'hello' }, { message_id: 'b', text: 'hello' }, { message_id: 'old', text: 'hello' }]);
  assert.deepEqual({ ...rows.prepare('SELECT total, senders FROM message_totals').get() }, { total: 3, senders: 1 });
});

test('a transaction that cannot commit fails every message in it, and the next one succeeds', (t) => {
  const { db, path } = writer(t, 50);
  const other = new DatabaseSync(path);
  t.after(() => other.isOpen && other.close());
  other.exec('BEGIN EXCLUSIVE');
  assert.deepEqual(outcomes(db.insertBatch([newMessage('x'), newMessage('y')])), ['failed', 'failed']);
  other.exec('ROLLBACK');
  assert.deepEqual(outcomes(db.insertBatch([newMessage('x'), newMessage('z')])), ['created', 'created']);
});

test('over HTTP, concurrent deliveries get 200 or 503 each by their own fate', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const seeded = await svc.deliver(message({ message_id: 'seen-before' }));
  assert.equal(seeded.status, 200);
  await seeded.body?.cancel();
  poison(svc.dbPath);

  const ids = ['fresh-1', 'seen-before', 'poison-2', 'fresh-2', 'fresh-1'];
  const responses = await Promise.all(ids.map((id) => svc.deliver(message({ message_id: id }))));
  const bodies = await Promise.all(responses.map((r) => bodyOf(r)));
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 503, 200, 200]);
  assert.deepEqual(bodies[2], { detail: 'storage unavailable' });
  assert.equal(responses[2]?.headers.get('retry-after'), '1');
  const list = await bodyOf(await svc.get('/messages'));
  assert.deepEqual(list.data.map((r: { message_id: string }) => r.message_id).sort(), ['fresh-1', 'fresh-2', 'seen-before']);
});

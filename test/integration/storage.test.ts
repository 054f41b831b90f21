// Storage against real SQLite files: upgrading a database made by the earlier service, failing
// storage (a real lock and an injected store), and durability of a 200.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { metricValue, scrape } from '../helpers/metrics.ts';
import { bodyOf, message, startTestService, tempDir, type TestService } from '../helpers/service.ts';
import { failingStore } from '../helpers/stores.ts';
import { SCHEMA_VERSION } from '../../src/storage/sqlite/migrations.ts';

async function webhookCount(svc: TestService, result: string): Promise<number | undefined> {
  const text = await scrape(svc);
  return metricValue(text, `webhook_requests_total{result="${result}"}`);
}

/** A directory removed after the test, for database files that must outlive one service. */
function ownDir(t: { after(fn: () => void): void }): string {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type LegacyRow = { message_id: string; from_msisdn: string; to_msisdn: string; ts: string; text: string | null; created_at: string };

// Instant order: d (14th), then a and b at the same instant 10:00:00Z (tie → message_id), then c (10:00:00.5Z).
// As text, ts would sort d, c, b, a — so a correct order proves ordering by instant.
const LEGACY_ROWS: readonly LegacyRow[] = [
  { message_id: 'legacy-c', from_msisdn: '+911111111111', to_msisdn: '+14155550100', ts: '2025-01-15T10:00:00.5Z', text: 'Legacy hello', created_at: '2025-01-15T10:00:01Z' },
  { message_id: 'legacy-b', from_msisdn: '+922222222222', to_msisdn: '+14155550100', ts: '2025-01-15T10:00:00Z', text: null, created_at: '2025-01-15T10:00:02Z' },
  { message_id: 'legacy-a', from_msisdn: '+911111111111', to_msisdn: '+14155550101', ts: '2025-01-15T12:00:00+02:00', text: 'Café ÉCOLE 100%_done', created_at: '2025-01-15T10:00:03Z' },
  { message_id: 'legacy-d', from_msisdn: '+911111111111', to_msisdn: '+14155550100', ts: '2025-01-14T09:00:00Z', text: 'earlier one', created_at: '2025-01-14T09:00:01Z' },
];

const asApi = (r: LegacyRow): Record<string, unknown> => ({ message_id: r.message_id, from: r.from_msisdn, to: r.to_msisdn, ts: r.ts, text: r.text });
const byId = (id: string): LegacyRow => {
  const row = LEGACY_ROWS.find((r) => r.message_id === id);
  assert.ok(row);
  return row;
};

function createLegacyDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE messages (message_id TEXT PRIMARY KEY, from_msisdn TEXT NOT NULL, to_msisdn TEXT NOT NULL, ts TEXT NOT NULL, text TEXT, created_at TEXT NOT NULL)`);
  db.exec('CREATE INDEX idx_from_msisdn ON messages(from_msisdn); CREATE INDEX idx_ts ON messages(ts);');
  const insert = db.prepare('INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  for (const r of LEGACY_ROWS) insert.run(r.message_id, r.from_msisdn, r.to_msisdn, r.ts, r.text, r.created_at);
  db.close();
}

function readFile(path: string): { version: number; journal: string; rows: Record<string, unknown>[]; columns: Record<string, unknown>[] } {
  const db = new DatabaseSync(path);
  try {
    return {
      version: Number(db.prepare('PRAGMA user_version').get()?.['user_version']),
      journal: String(db.prepare('PRAGMA journal_mode').get()?.['journal_mode']),
      rows: db.prepare('SELECT message_id, from_msisdn, to_msisdn, ts, text, created_at FROM messages ORDER BY message_id').all().map((r) => ({ ...r })),
      columns: db.prepare('PRAGMA table_info(messages)').all().map((c) => ({ name: c['name'], type: c['type'], notnull: c['notnull'], pk: c['pk'] })),
    };
  } finally {
    db.close();
  }
}

const ORIGINAL_COLUMNS = [
  { name: 'message_id', type: 'TEXT', notnull: 0, pk: 1 },
  { name: 'from_msisdn', type: 'TEXT', notnull: 1, pk: 0 },
  { name: 'to_msisdn', type: 'TEXT', notnull: 1, pk: 0 },
  { name: 'ts', type: 'TEXT', notnull: 1, pk: 0 },
  { name: 'text', type: 'TEXT', notnull: 0, pk: 0 },
  { name: 'created_at', type: 'TEXT', notnull: 1, pk: 0 },
];

const EXPECTED_ORDER = ['legacy-d', 'legacy-a', 'legacy-b', 'legacy-c'];

async function checkLegacyApi(svc: TestService): Promise<void> {
  const list = await bodyOf(await svc.get('/messages'));
  assert.deepEqual(list, { data: EXPECTED_ORDER.map((id) => asApi(byId(id))), total: 4, limit: 50, offset: 0 });

  const stats = await bodyOf(await svc.get('/stats'));
  assert.deepEqual(stats, {
    total_messages: 4,
    senders_count: 2,
    messages_per_sender: [{ from: '+911111111111', count: 3 }, { from: '+922222222222', count: 1 }],
    first_message_ts: '2025-01-14T09:00:00Z',
    last_message_ts: '2025-01-15T10:00:00.5Z',
  });

  // Search on legacy text: case-insensitive for all of Unicode; % and _ literal; NULL text never matches.
  const q = async (query: string): Promise<string[]> => (await bodyOf(await svc.get(`/messages?${query}`))).data.map((r: { message_id: string }) => r.message_id);
  assert.deepEqual(await q(`q=${encodeURIComponent('école')}`), ['legacy-a']);
  assert.deepEqual(await q('q=LEGACY'), ['legacy-c']);
  assert.deepEqual(await q(`q=${encodeURIComponent('%_')}`), ['legacy-a']);
  assert.deepEqual(await q('q=e'), ['legacy-d', 'legacy-a', 'legacy-c']);
  // since uses the instant: the +02:00 row is at 10:00:00Z.
  assert.deepEqual(await q('since=2025-01-15T10:00:00Z'), ['legacy-a', 'legacy-b', 'legacy-c']);
  assert.deepEqual(await q('since=2025-01-15T10:00:00.1Z'), ['legacy-c']);
  assert.deepEqual(await q(`from=${encodeURIComponent('+922222222222')}`), ['legacy-b']);
}

test('a database created by the earlier service is upgraded in place with every row kept', async (t) => {
  const dir = ownDir(t);
  const dbPath = join(dir, 'legacy.db');
  createLegacyDatabase(dbPath);
  assert.equal(readFile(dbPath).version, 0);

  const svc = await startTestService({ dbPath });
  t.after(() => svc.stop());
  await checkLegacyApi(svc);

  // A new delivery of a legacy id is a duplicate and changes nothing.
  const dup = await svc.deliver({ message_id: 'legacy-b', from: '+15550001111', to: '+15550002222', ts: '2026-01-01T00:00:00Z', text: 'new text' });
  assert.equal(dup.status, 200);
  assert.deepEqual(await bodyOf(dup), { status: 'ok' });
  assert.equal(await webhookCount(svc, 'duplicate'), 1);
  assert.equal(await webhookCount(svc, 'created'), 0);
  const line = svc.accessLogs().find((l) => l['path'] === '/webhook');
  assert.equal(line?.['result'], 'duplicate');
  assert.equal(line?.['dup'], true);
  await checkLegacyApi(svc);

  // A new message lands between legacy rows by instant.
  const fresh = await svc.deliver(message({ message_id: 'new-1', ts: '2025-01-15T10:00:00.25Z', text: 'fresh' }));
  assert.equal(fresh.status, 200);
  await fresh.body?.cancel();
  const list = await bodyOf(await svc.get('/messages'));
  assert.deepEqual(list.data.map((r: { message_id: string }) => r.message_id), ['legacy-d', 'legacy-a', 'legacy-b', 'new-1', 'legacy-c']);
  await svc.stop();

  const after = readFile(dbPath);
  assert.equal(after.version, SCHEMA_VERSION);
  assert.equal(after.journal, 'wal');
  assert.deepEqual(after.columns.slice(0, 6), ORIGINAL_COLUMNS);
  const legacyAfter = after.rows.filter((r) => String(r['message_id']).startsWith('legacy-'));
  assert.deepEqual(legacyAfter, [...LEGACY_ROWS].sort((a, b) => (a.message_id < b.message_id ? -1 : 1)).map((r) => ({ ...r })));
  const newRow = after.rows.find((r) => r['message_id'] === 'new-1');
  assert.equal(newRow?.['ts'], '2025-01-15T10:00:00.25Z');
  assert.equal(typeof newRow?.['created_at'], 'string');
});

test('restarting on an upgraded database twice is idempotent', async (t) => {
  const dir = ownDir(t);
  const dbPath = join(dir, 'legacy.db');
  createLegacyDatabase(dbPath);

  for (let round = 0; round < 3; round += 1) {
    const svc = await startTestService({ dbPath });
    t.after(() => svc.stop());
    await checkLegacyApi(svc);
    const ready = await svc.get('/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(await bodyOf(ready), { status: 'ready' });
    const startLine = svc.logs.find((l) => l['msg'] === 'database ready');
    assert.equal(startLine?.['schema_version'], SCHEMA_VERSION);
    assert.equal(startLine?.['schema_from'], round === 0 ? 0 : SCHEMA_VERSION);
    await svc.stop();
    const file = readFile(dbPath);
    assert.equal(file.version, SCHEMA_VERSION);
    assert.deepEqual(file.rows, [...LEGACY_ROWS].sort((a, b) => (a.message_id < b.message_id ? -1 : 1)).map((r) => ({ ...r })));
    assert.deepEqual(file.columns.slice(0, 6), ORIGINAL_COLUMNS);
  }
});

test('a write lock held by another connection gives 503 "storage unavailable" with Retry-After, never 200', async (t) => {
  const svc = await startTestService({ busyTimeoutMs: 50 });
  t.after(() => svc.stop());
  const other = new DatabaseSync(svc.dbPath);
  t.after(() => {
    if (other.isOpen) other.close();
  });
  const m = message({ text: 'held back' });

  other.exec('BEGIN EXCLUSIVE');
  for (let i = 0; i < 2; i += 1) {
    const res = await svc.deliver(m, { 'X-Request-ID': `locked-${i}` });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.ok(res.headers.get('retry-after'), 'Retry-After present');
    assert.match(res.headers.get('retry-after') ?? '', /^[0-9]+$/);
    assert.deepEqual(await bodyOf(res), { detail: 'storage unavailable' });
  }
  const lockedLine = svc.accessLogs().find((l) => l['request_id'] === 'locked-0');
  assert.equal(lockedLine?.['level'], 'error');
  assert.equal(lockedLine?.['status'], 503);
  assert.equal(lockedLine?.['dup'], false);
  assert.equal(lockedLine?.['result'], 'unavailable');
  other.exec('ROLLBACK');

  const ok = await svc.deliver(m);
  assert.equal(ok.status, 200);
  assert.deepEqual(await bodyOf(ok), { status: 'ok' });
  const again = await svc.deliver(m);
  assert.equal(again.status, 200);
  await again.body?.cancel();

  const list = await bodyOf(await svc.get('/messages'));
  assert.equal(list.total, 1);
  assert.deepEqual(list.data, [{ message_id: m['message_id'], from: m['from'], to: m['to'], ts: m['ts'], text: 'held back' }]);
  assert.equal(await webhookCount(svc, 'unavailable'), 2);
  assert.equal(await webhookCount(svc, 'created'), 1);
  assert.equal(await webhookCount(svc, 'duplicate'), 1);
  assert.ok(!svc.rawLog().includes('held back'));
});

test('a group commit that fails fails every delivery in it: all 503, none stored, all accepted on retry', async (t) => {
  const svc = await startTestService({ busyTimeoutMs: 50 });
  t.after(() => svc.stop());
  const other = new DatabaseSync(svc.dbPath);
  t.after(() => {
    if (other.isOpen) other.close();
  });
  const batch = Array.from({ length: 20 }, (_, i) => message({ message_id: `grouped-${i}` }));

  other.exec('BEGIN EXCLUSIVE');
  const refused = await Promise.all(batch.map((m) => svc.deliver(m)));
  assert.deepEqual(await Promise.all(refused.map(async (r) => `${r.status} ${await r.text()}`)), batch.map(() => '503 {"detail":"storage unavailable"}'));
  other.exec('ROLLBACK');
  assert.equal(Number(other.prepare('SELECT COUNT(*) AS n FROM messages').get()?.['n']), 0);

  const accepted = await Promise.all(batch.map((m) => svc.deliver(m)));
  assert.deepEqual(accepted.map((r) => r.status), batch.map(() => 200));
  await Promise.all(accepted.map((r) => r.body?.cancel()));
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 20);
  assert.equal(await webhookCount(svc, 'unavailable'), 20);
  assert.equal(await webhookCount(svc, 'created'), 20);
});

test('an injected failing store: /webhook, /messages, /stats and /health/ready are 503', async (t) => {
  const svc = await startTestService({ store: failingStore() });
  t.after(() => svc.stop());
  const text = 'STORE-FAIL-TEXT-3ab';
  const m = message({ text });

  const hook = await svc.deliver(m);
  assert.equal(hook.status, 503);
  assert.equal(hook.headers.get('content-type'), 'application/json');
  assert.match(hook.headers.get('retry-after') ?? '', /^[0-9]+$/);
  assert.deepEqual(await bodyOf(hook), { detail: 'storage unavailable' });

  for (const path of ['/messages', '/messages?limit=5&q=x', '/stats']) {
    const res = await svc.get(path);
    assert.equal(res.status, 503, path);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.match(res.headers.get('retry-after') ?? '', /^[0-9]+$/);
    assert.deepEqual(await bodyOf(res), { detail: 'storage unavailable' }, path);
  }

  const ready = await svc.get('/health/ready');
  assert.equal(ready.status, 503);
  assert.deepEqual(await bodyOf(ready), { status: 'not ready', reasons: ['database not answering'] });
  const live = await svc.get('/health/live');
  assert.equal(live.status, 200);
  await live.body?.cancel();

  const errorLine = svc.logs.find((l) => l['msg'] === 'storage write failed');
  assert.ok(errorLine, 'an error line for the failed write');
  assert.equal(errorLine['level'], 'error');
  assert.equal(errorLine['message_id'], m['message_id']);
  const err = errorLine['err'] as Record<string, unknown>;
  assert.equal(err['type'], 'Error');
  assert.equal(err['message'], 'SQLITE_IOERR: disk I/O error');
  assert.equal(typeof err['stack'], 'string');
  assert.ok(!svc.rawLog().includes(text), 'message text in log');
  assert.equal(await webhookCount(svc, 'unavailable'), 1);
  assert.equal(await webhookCount(svc, 'created'), 0);
});

test('a 200 is durable: after stopping, the row is in the file and the journal is WAL', async (t) => {
  const dir = ownDir(t);
  const dbPath = join(dir, 'nested', 'durable.db');
  const svc = await startTestService({ dbPath });
  t.after(() => svc.stop());
  const m = message({ message_id: 'durable-1', text: 'kept ✓', ts: '2025-03-01T00:00:00.123Z' });
  const res = await svc.deliver(m);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  await svc.stop();

  const file = readFile(dbPath);
  assert.equal(file.journal, 'wal');
  assert.equal(file.version, SCHEMA_VERSION);
  assert.equal(file.rows.length, 1);
  const row = file.rows[0] ?? {};
  assert.deepEqual(
    { message_id: row['message_id'], from_msisdn: row['from_msisdn'], to_msisdn: row['to_msisdn'], ts: row['ts'], text: row['text'] },
    { message_id: 'durable-1', from_msisdn: m['from'], to_msisdn: m['to'], ts: '2025-03-01T00:00:00.123Z', text: 'kept ✓' },
  );
  assert.ok(!Number.isNaN(Date.parse(String(row['created_at']))));

  // A second service on the same file sees the row.
  const again = await startTestService({ dbPath });
  t.after(() => again.stop());
  const list = await bodyOf(await again.get('/messages'));
  assert.deepEqual(list.data, [{ message_id: 'durable-1', from: m['from'], to: m['to'], ts: '2025-03-01T00:00:00.123Z', text: 'kept ✓' }]);
});

test('a clean stop checkpoints the WAL: a copy of the database file alone holds every acknowledged row', async (t) => {
  const dir = ownDir(t);
  const dbPath = join(dir, 'backup.db');
  const svc = await startTestService({ dbPath });
  t.after(() => svc.stop());
  const ids = Array.from({ length: 50 }, (_, i) => `cold-backup-${i}`);
  for (const id of ids) {
    const res = await svc.deliver(message({ message_id: id }));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  // The reader has served a query, so both connections are open when the service stops.
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, ids.length);
  await svc.stop();

  const wal = `${dbPath}-wal`;
  assert.ok(!existsSync(wal) || statSync(wal).size === 0, 'the WAL is empty or gone after a clean stop');
  // A cold backup that copies only the database file.
  const copy = join(dir, 'copy', 'only-the-db.db');
  mkdirSync(dirname(copy));
  copyFileSync(dbPath, copy);
  const db = new DatabaseSync(copy, { readOnly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT message_id FROM messages ORDER BY message_id').all().map((r) => String(r['message_id']));
  assert.deepEqual(rows, [...ids].sort());
});

test('a database of schema 4 is re-folded: texts with ẞ, ı or Cherokee are found as full case folding says', async (t) => {
  const dir = ownDir(t);
  const dbPath = join(dir, 'refold.db');
  const first = await startTestService({ dbPath });
  const texts: Record<string, string> = { 'refold-sharp': 'GROẞE Freude', 'refold-dotless': 'KıSA yol', 'refold-cherokee': '\uAB70\uAB71 ᏣᎳᎩ', 'refold-plain': 'plain text' };
  for (const [id, text] of Object.entries(texts)) {
    const res = await first.deliver(message({ message_id: id, text }));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  await first.stop();
  // What the earlier fold stored (upper- then lower-case), and schema version 4 (the last before the new fold).
  const db = new DatabaseSync(dbPath);
  const old = (s: string): string => s.normalize('NFC').toUpperCase().toLowerCase().replaceAll('ς', 'σ').normalize('NFC');
  for (const [id, text] of Object.entries(texts)) db.prepare('UPDATE messages SET text_fold = ? WHERE message_id = ?').run(old(text), id);
  db.exec(`DROP TRIGGER messages_search_ad; DROP TRIGGER messages_search_au;
           DROP TABLE messages_search; DROP TABLE search_state; PRAGMA user_version = 4`); // as schema 4 was
  db.close();

  const svc = await startTestService({ dbPath });
  t.after(() => svc.stop());
  const found = async (q: string): Promise<string[]> => (await bodyOf(await svc.get(`/messages?q=${encodeURIComponent(q)}`))).data.map((m: { message_id: string }) => m.message_id);
  assert.deepEqual(await found('große'), ['refold-sharp']);
  assert.deepEqual(await found('GROSSE'), ['refold-sharp']);
  assert.deepEqual(await found('kısa'), ['refold-dotless']);
  assert.deepEqual(await found('kisa'), []);
  assert.deepEqual(await found('\u13A0\u13A1'), ['refold-cherokee']);
  assert.deepEqual(await found('ꮳꮃꭹ'), ['refold-cherokee']);
  assert.equal(readFile(dbPath).version, SCHEMA_VERSION);
});

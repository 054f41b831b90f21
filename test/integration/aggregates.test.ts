// /stats and the `from` total come from running totals, not from counting the table. These tests
// check the totals stay equal to what counting would say, whatever writes the table.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { bodyOf, message, startTestService, tempDir, type TestService } from '../helpers/service.ts';

const A = '+15550000001';
const B = '+15550000002';
const C = '+15550000003';

async function deliverAll(svc: TestService, messages: Record<string, unknown>[]): Promise<void> {
  const responses = await Promise.all(messages.map((m) => svc.deliver(m)));
  for (const r of responses) {
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
}

/** What /stats must say, computed the slow way from the table itself (the same SQL on either backend). */
async function counted(svc: TestService): Promise<{ total: number; senders: number; top: { from: string; count: number }[] }> {
  const one = async (sql: string): Promise<number> => Number((await svc.database.sql(sql))[0]?.['n']);
  const total = await one('SELECT COUNT(*) AS n FROM messages');
  const senders = await one('SELECT COUNT(DISTINCT from_msisdn) AS n FROM messages');
  const top = (await svc.database.sql('SELECT from_msisdn, COUNT(*) AS n FROM messages GROUP BY from_msisdn ORDER BY n DESC, from_msisdn LIMIT 10'))
    .map((r) => ({ from: String(r['from_msisdn']), count: Number(r['n']) }));
  return { total, senders, top };
}

async function assertStatsMatchTable(svc: TestService): Promise<void> {
  const stats = await bodyOf(await svc.get('/stats'));
  const truth = await counted(svc);
  assert.equal(stats.total_messages, truth.total);
  assert.equal(stats.senders_count, truth.senders);
  assert.deepEqual(stats.messages_per_sender, truth.top);
  for (const { from, count } of truth.top) {
    const page = await bodyOf(await svc.get(`/messages?from=${encodeURIComponent(from)}&limit=1`));
    assert.equal(page.total, count, `total for from=${from}`);
  }
}

function ownDb(t: TestContext): string {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'app.db');
}

test('totals follow concurrent deliveries, duplicates included, across many senders', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const batch = Array.from({ length: 60 }, (_, i) => message({ message_id: `agg-${i % 45}`, from: `+1555000${String(i % 13).padStart(4, '0')}` }));
  await deliverAll(svc, batch);
  await assertStatsMatchTable(svc);
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 45);
});

test('ad-hoc DELETE and UPDATE of the sender keep /stats equal to the table', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  await deliverAll(svc, [
    message({ message_id: 'd1', from: A }),
    message({ message_id: 'd2', from: A }),
    message({ message_id: 'd3', from: B }),
    message({ message_id: 'd4', from: C }),
  ]);
  // Another connection, as an operator's ad-hoc SQL would be (the same statements on either backend).
  const other = svc.database;
  await other.sql(`DELETE FROM messages WHERE message_id = 'd4'`); // C's only message: C is no sender any more
  await assertStatsMatchTable(svc);
  await other.sql(`UPDATE messages SET from_msisdn = '${C}' WHERE message_id = 'd1'`);
  await assertStatsMatchTable(svc);
  await other.sql(`UPDATE messages SET to_msisdn = '+19999' WHERE message_id = 'd2'`); // not the sender: nothing moves
  await assertStatsMatchTable(svc);
  await other.sql('DELETE FROM messages');
  await assertStatsMatchTable(svc);
  assert.deepEqual(await bodyOf(await svc.get('/stats')), {
    total_messages: 0,
    senders_count: 0,
    messages_per_sender: [],
    first_message_ts: null,
    last_message_ts: null,
  });
});

test('rows inserted behind the service are counted again at the next start', async (t) => {
  const dbPath = ownDb(t);
  const first = await startTestService({ dbPath });
  await deliverAll(first, [message({ message_id: 'own-1', from: A })]);
  await first.stop();

  // As the earlier service (or an operator) would write: the legacy columns only.
  const other = new DatabaseSync(dbPath);
  other.exec(`INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at)
              VALUES ('outside-1', '${B}', '+1', '2025-01-15T10:00:00Z', 'hi', '2025-01-15T10:00:01Z'),
                     ('outside-2', '${B}', '+1', '2025-01-15T10:00:01Z', NULL, '2025-01-15T10:00:02Z')`);
  other.close();

  const second = await startTestService({ dbPath });
  t.after(() => second.stop());
  const started = second.logs.find((l) => l['msg'] === 'database ready');
  assert.equal(started?.['recounted'], true);
  assert.equal(started?.['backfilled_rows'], 2);
  await assertStatsMatchTable(second);
  assert.equal((await bodyOf(await second.get('/stats'))).total_messages, 3);
});

// Concurrency: one message_id from 200 parallel deliveries is stored once and all get 200; many
// connections interleaving new and repeated ids store exactly the distinct ids acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportFigures } from '../helpers/figures.ts';
import { createPool } from '../helpers/http-client.ts';
import { createRandom, seedFromEnv } from '../helpers/seeded.ts';
import { bodyOf, message, signBody, startTestService } from '../helpers/service.ts';

test('200 parallel deliveries of one message_id: 200 × 200, one row, the first write kept', async (t) => {
  const svc = await startTestService();
  t.after(() => svc.stop());
  const bodies = Array.from({ length: 200 }, (_, i) => message({ message_id: 'one-id-200', text: `variant ${i}` }));
  const answers = await Promise.all(bodies.map(async (b, i) => {
    const res = await svc.deliver(b, { 'X-Request-ID': `par-${i}` });
    return `${res.status} ${await res.text()}`;
  }));
  assert.deepEqual(answers, bodies.map(() => '200 {"status":"ok"}'));
  const list = await bodyOf(await svc.get('/messages?limit=100'));
  assert.equal(list.total, 1);
  const created = svc.accessLogs().filter((l) => l['result'] === 'created');
  assert.equal(created.length, 1);
  assert.equal(svc.accessLogs().filter((l) => l['result'] === 'duplicate').length, 199);
  const winner = Number(String(created[0]?.['request_id']).slice('par-'.length));
  assert.equal(list.data[0].text, `variant ${winner}`);
});

test('interleaved new and repeated ids from 48 connections: rows = distinct ids acknowledged', async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`seed ${seed}`);
  const rng = createRandom(seed);
  const svc = await startTestService();
  t.after(() => svc.stop());
  const pool = createPool(svc.port, 48);
  t.after(() => pool.close());

  const ids = Array.from({ length: 400 }, (_, i) => `inter-${i}`);
  const deliveries = Array.from({ length: 3_000 }, () => {
    const body = JSON.stringify(message({ message_id: rng.pick(ids), text: `t${rng.int(0, 9)}` }));
    return { body, id: (JSON.parse(body) as { message_id: string }).message_id };
  });
  const acked = new Set<string>();
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(Array.from({ length: 48 }, async () => {
    while (next < deliveries.length) {
      const d = deliveries[next] as { body: string; id: string };
      next += 1;
      const res = await pool.send('POST', '/webhook', d.body, { 'Content-Type': 'application/json', 'X-Signature': signBody(d.body) });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) acked.add(d.id);
    }
  }));
  assert.deepEqual([...statuses], [[200, deliveries.length]]);
  const rows = (await svc.database.sql('SELECT message_id FROM messages')).map((r) => String(r['message_id']));
  assert.equal(rows.length, acked.size);
  assert.deepEqual(new Set(rows), acked);
  const created = svc.accessLogs().filter((l) => l['result'] === 'created').length;
  assert.equal(created, acked.size);
  reportFigures(t, 'concurrency', { seed, deliveries: deliveries.length, distinct_ids_acknowledged: acked.size, rows: rows.length });
});

// Three replicas of the real service (src/main.ts) on one PostgreSQL database: exactly-once
// storage and exact /stats across them, live tails that see every replica's messages, and the
// arrival sequence's promise (nothing missed or repeated on resume) while all three commit at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics.ts';
import { havePostgres, useCluster, type Cluster } from '../helpers/postgres.ts';
import { bodyJson, startLoad, startReplicas, type Replica } from '../helpers/replicas.ts';
import { message } from '../helpers/service.ts';
import { messagesOf, openSse, type SseClient } from '../helpers/sse.ts';
import { pgQuery } from '../helpers/test-database.ts';

const cluster = useCluster();

async function freshDatabase(pg: Cluster): Promise<string> {
  return pg.url(await pg.createDatabase(), 'sslmode=disable');
}

async function scrapeAll(replicas: readonly Replica[], series: string): Promise<number> {
  let sum = 0;
  for (const r of replicas) {
    const scraped = await r.get('/metrics');
    sum += metricValue('body' in scraped ? scraped.body : '', series) ?? 0;
  }
  return sum;
}

/** Every stored arrival's seq, in order: the ground truth a resuming client must end up with. */
async function arrivalSeqs(url: string, after = 0): Promise<number[]> {
  return (await pgQuery(url, 'SELECT seq FROM arrivals WHERE seq > ? ORDER BY seq', [after])).map((r) => Number(r['seq']));
}

test('three replicas started together migrate once; the same ids delivered through all three: all 200, one row each, exact counts and /stats everywhere', { timeout: 180_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const url = await freshDatabase(cluster());
  const replicas = await startReplicas(t, url, 3);
  assert.deepEqual(await pgQuery(url, 'SELECT version FROM schema_migrations ORDER BY version'), [{ version: 1 }, { version: 2 }], 'each migration applied once');

  const ids = Array.from({ length: 150 }, (_, i) => `same-${i}`);
  const outcomes = await Promise.all(ids.flatMap((id, i) => replicas.map((r, k) =>
    r.deliver(message({ message_id: id, from: `+1444${String(i % 12).padStart(7, '0')}`, text: `from replica ${k}` })))));
  assert.deepEqual([...new Set(outcomes.map((o) => o.status))], [200]);
  assert.equal(Number((await pgQuery(url, 'SELECT count(*) AS n FROM messages'))[0]?.['n']), ids.length);
  assert.equal(Number((await pgQuery(url, 'SELECT count(*) AS n FROM arrivals'))[0]?.['n']), ids.length, 'one arrival each');
  assert.equal(await scrapeAll(replicas, 'webhook_requests_total{result="created"}'), ids.length, 'created counted once across replicas');
  assert.equal(await scrapeAll(replicas, 'webhook_requests_total{result="duplicate"}'), ids.length * 2);

  const truth = await pgQuery(url, 'SELECT from_msisdn, count(*) AS n FROM messages GROUP BY from_msisdn ORDER BY n DESC, from_msisdn LIMIT 10');
  const expected = {
    total_messages: ids.length,
    senders_count: 12,
    messages_per_sender: truth.map((r) => ({ from: String(r['from_msisdn']), count: Number(r['n']) })),
    first_message_ts: '2025-01-15T10:00:00Z',
    last_message_ts: '2025-01-15T10:00:00Z',
  };
  for (const r of replicas) assert.deepEqual(bodyJson(await r.get('/stats')), expected);
  // Every replica lists the same first-written row for each id, and pages by the same cursors.
  const pages = await Promise.all(replicas.map(async (r) => bodyJson(await r.get('/messages?limit=100&offset=20'))));
  assert.deepEqual(pages[1], pages[0]);
  assert.deepEqual(pages[2], pages[0]);
  const link = (await replicas[0]?.get('/messages?limit=5'));
  const next = /<([^>]+)>; rel="next"/.exec(String(link !== undefined && 'headers' in link ? link.headers['link'] : ''))?.[1] ?? '';
  const fromOther = await replicas[2]?.get(next);
  assert.equal(fromOther?.status, 200, 'a cursor from one replica is valid on another (the key is in the database)');
  assert.deepEqual(bodyJson(fromOther ?? { status: 0, error: '' }).data.length, 5);
});

test('a live tail on one replica sees what the other replicas store, once each, in seq order', { timeout: 120_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const url = await freshDatabase(cluster());
  const replicas = await startReplicas(t, url, 3);
  const [a, b, c] = replicas;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  await b.deliver(message({ message_id: 'before' }));
  const client = await openSse(`${a.url}/messages/stream`);
  t.after(() => client.close());
  await client.waitFor('the head as its first id', () => client.lastId() !== '');
  const sent = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? b : c).deliver(message({ message_id: `across-${i}` }))));
  assert.ok(sent.every((o) => o.status === 200));
  await client.waitFor('60 events', (events) => messagesOf(events).length >= 60);
  const seen = messagesOf(client.events);
  assert.deepEqual(seen.map((m) => String(m.message['message_id'])).sort(), Array.from({ length: 60 }, (_, i) => `across-${i}`).sort());
  assert.deepEqual(seen.map((m) => m.id), await arrivalSeqs(url, 1), 'in seq order, none missed, none repeated');
});

test('while all three replicas commit at once, clients that keep resuming on a different replica miss nothing and see nothing twice', { timeout: 240_000 }, async (t) => {
  if (!havePostgres(t)) return;
  const url = await freshDatabase(cluster());
  const replicas = await startReplicas(t, url, 3);
  const load = startLoad(() => replicas, 'seq', 18);
  t.after(() => load.stop());
  await load.untilAcked(100);

  // Each reader starts from the beginning, reads a while, disconnects, and resumes with its last id
  // on the next replica: every resume is a replay-to-live handover under concurrent commits.
  const readers = Array.from({ length: 6 }, async (_, reader) => {
    const seen: number[] = [];
    let lastId = '0';
    for (let round = 0; round < 8; round += 1) {
      const replica = replicas[(reader + round) % replicas.length];
      assert.ok(replica !== undefined);
      const client: SseClient = await openSse(`${replica.url}/messages/stream`, { 'Last-Event-ID': lastId });
      assert.equal(client.status, 200);
      await client.waitFor(`reader ${reader} round ${round}`, (events) => messagesOf(events).length >= 40 + reader * 7);
      client.close();
      await client.ended;
      seen.push(...messagesOf(client.events).map((m) => m.id));
      lastId = client.lastId();
    }
    return { seen, lastId };
  });
  const done = await Promise.all(readers);
  const result = await load.stop();
  assert.ok(result.acked.size > 300, `the replicas committed concurrently (${result.acked.size} acknowledged)`);
  t.diagnostic(`${result.acked.size} deliveries acknowledged while ${done.length} readers resumed ${done.length * 8} times`);
  assert.deepEqual([...result.statuses.keys()], [200]);

  // A last resume on each replica after the load: catch up, then a marker proves it is live.
  for (const [i, { seen, lastId }] of done.entries()) {
    const replica = replicas[i % replicas.length];
    assert.ok(replica !== undefined);
    const client = await openSse(`${replica.url}/messages/stream`, { 'Last-Event-ID': lastId });
    t.after(() => client.close());
    const marker = `marker-${i}`;
    const posted = await replicas[(i + 1) % replicas.length]?.deliver(message({ message_id: marker }));
    assert.equal(posted?.status, 200);
    await client.waitFor(marker, (events) => messagesOf(events).some((m) => m.message['message_id'] === marker));
    client.close();
    seen.push(...messagesOf(client.events).map((m) => m.id));
    const truth = (await arrivalSeqs(url)).filter((seq) => seq <= (seen.at(-1) ?? 0));
    assert.equal(new Set(seen).size, seen.length, `reader ${i}: nothing twice`);
    assert.deepEqual(seen, truth, `reader ${i}: every stored seq, in order`);
  }
});

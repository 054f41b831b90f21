// GET /stats over a real socket: exact shape, the top-10 senders, and first/last by instant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, freshService as fresh, message, seed, type TestService } from '../helpers/service.ts';


async function stats(svc: TestService): Promise<any> {
  const res = await svc.get('/stats');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  return bodyOf(res);
}

const KEYS = ['first_message_ts', 'last_message_ts', 'messages_per_sender', 'senders_count', 'total_messages'];

test('an empty database gives zeros, nulls and no senders', async (t) => {
  const svc = await fresh(t);
  const body = await stats(svc);
  assert.deepEqual(Object.keys(body).sort(), KEYS);
  assert.deepEqual(body, {
    total_messages: 0,
    senders_count: 0,
    messages_per_sender: [],
    first_message_ts: null,
    last_message_ts: null,
  });
});

test('one message: its sender and its ts as received', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [message({ from: '+14155550100', ts: '2025-01-15T10:00:00.120Z' })]);
  assert.deepEqual(await stats(svc), {
    total_messages: 1,
    senders_count: 1,
    messages_per_sender: [{ from: '+14155550100', count: 1 }],
    first_message_ts: '2025-01-15T10:00:00.120Z',
    last_message_ts: '2025-01-15T10:00:00.120Z',
  });
});

test('at most 10 senders, by count descending then from ascending', async (t) => {
  const svc = await fresh(t);
  // 12 senders; counts chosen so ties must be broken by `from` and two senders fall off the list.
  const counts: readonly [string, number][] = [
    ['+300', 1],
    ['+100', 3],
    ['+999', 5],
    ['+200', 3],
    ['+111', 1],
    ['+555', 2],
    ['+10', 3],
    ['+444', 1],
    ['+9', 1],
    ['+777', 2],
    ['+2', 1],
    ['+1', 1],
  ];
  const messages = counts.flatMap(([from, n]) => Array.from({ length: n }, () => message({ from })));
  await seed(svc, messages);
  const body = await stats(svc);
  assert.deepEqual(Object.keys(body).sort(), KEYS);
  assert.equal(body.total_messages, 24);
  assert.equal(body.senders_count, 12);
  assert.deepEqual(body.messages_per_sender, [
    { from: '+999', count: 5 },
    { from: '+10', count: 3 },
    { from: '+100', count: 3 },
    { from: '+200', count: 3 },
    { from: '+555', count: 2 },
    { from: '+777', count: 2 },
    { from: '+1', count: 1 },
    { from: '+111', count: 1 },
    { from: '+2', count: 1 },
    { from: '+300', count: 1 },
  ]);
  for (const entry of body.messages_per_sender) assert.deepEqual(Object.keys(entry).sort(), ['count', 'from']);
});

test('first and last are the ts strings of the earliest and latest instants, not of text order', async (t) => {
  const svc = await fresh(t);
  // As text, "…:00.5Z" < "…:00.25Z" < "…:00Z"; as instants it is the other way round.
  await seed(svc, [
    message({ message_id: 'mid', ts: '2025-01-15T10:00:00.25Z' }),
    message({ message_id: 'late', ts: '2025-01-15T10:00:00.5Z' }),
    message({ message_id: 'early', ts: '2025-01-15T10:00:00Z' }),
  ]);
  const body = await stats(svc);
  assert.equal(body.first_message_ts, '2025-01-15T10:00:00Z');
  assert.equal(body.last_message_ts, '2025-01-15T10:00:00.5Z');
  assert.equal(body.total_messages, 3);
});

test('first and last keep the string as received even with extra fraction digits', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    message({ ts: '2024-12-31T23:59:59.999999999Z' }),
    message({ ts: '2025-01-01T00:00:00.000Z' }),
    message({ ts: '2025-01-01T00:00:00.0001Z' }),
  ]);
  const body = await stats(svc);
  assert.equal(body.first_message_ts, '2024-12-31T23:59:59.999999999Z');
  assert.equal(body.last_message_ts, '2025-01-01T00:00:00.0001Z');
});

test('duplicates and rejected deliveries do not count', async (t) => {
  const svc = await fresh(t);
  const m = message({ from: '+14155550100' });
  await seed(svc, [m, { ...m, from: '+919876543210', text: 'changed' }]);
  const bad = await svc.deliver({ ...message(), from: 'not-a-number' });
  assert.equal(bad.status, 422);
  await bad.body?.cancel();
  const body = await stats(svc);
  assert.equal(body.total_messages, 1);
  assert.equal(body.senders_count, 1);
  assert.deepEqual(body.messages_per_sender, [{ from: '+14155550100', count: 1 }]);
});

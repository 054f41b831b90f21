// GET /messages over a real socket: response shape, paging, ordering by instant, and every filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyOf, freshService as fresh, message, seed, type TestService } from '../helpers/service.ts';


/** GET and parse; the status must be the expected one. */
async function getJson(svc: TestService, pathAndQuery: string, status = 200): Promise<any> {
  const res = await svc.get(pathAndQuery);
  assert.equal(res.status, status, pathAndQuery);
  assert.equal(res.headers.get('content-type'), 'application/json');
  return bodyOf(res);
}

async function ids(svc: TestService, query: string): Promise<string[]> {
  const body = await getJson(svc, `/messages${query}`);
  return body.data.map((m: { message_id: string }) => m.message_id);
}

test('the response has exactly data,total,limit,offset and items exactly message_id,from,to,ts,text', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    { message_id: 'one', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00.250Z', text: 'Hi', extra: 'ignored' },
    { message_id: 'two', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:01Z' },
  ]);
  const body = await getJson(svc, '/messages');
  assert.deepEqual(Object.keys(body).sort(), ['data', 'limit', 'offset', 'total']);
  assert.deepEqual(body, {
    data: [
      { message_id: 'one', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00.250Z', text: 'Hi' },
      { message_id: 'two', from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:01Z', text: null },
    ],
    total: 2,
    limit: 50,
    offset: 0,
  });
  for (const item of body.data) assert.deepEqual(Object.keys(item).sort(), ['from', 'message_id', 'text', 'to', 'ts']);
});

test('an empty database lists nothing with the defaults', async (t) => {
  const svc = await fresh(t);
  assert.deepEqual(await getJson(svc, '/messages'), { data: [], total: 0, limit: 50, offset: 0 });
});

test('the default page is 50 items from offset 0, total counts all', async (t) => {
  const svc = await fresh(t);
  const all = Array.from({ length: 53 }, (_, i) => message({ message_id: `id-${String(i).padStart(3, '0')}` }));
  await seed(svc, all);
  const body = await getJson(svc, '/messages');
  assert.equal(body.limit, 50);
  assert.equal(body.offset, 0);
  assert.equal(body.total, 53);
  assert.equal(body.data.length, 50);
  assert.equal(body.data[0].message_id, 'id-000');
  assert.equal(body.data[49].message_id, 'id-049');
  const max = await getJson(svc, '/messages?limit=100');
  assert.equal(max.limit, 100);
  assert.equal(max.data.length, 53);
  const min = await getJson(svc, '/messages?limit=1&offset=52');
  assert.deepEqual([min.limit, min.offset, min.total, min.data.map((m: { message_id: string }) => m.message_id)], [1, 52, 53, ['id-052']]);
});

test('limit and offset pages through the matches; total ignores them', async (t) => {
  const svc = await fresh(t);
  await seed(svc, ['a', 'b', 'c', 'd', 'e'].map((id) => message({ message_id: id })));
  const page = await getJson(svc, '/messages?limit=2&offset=2');
  assert.deepEqual([page.total, page.limit, page.offset], [5, 2, 2]);
  assert.deepEqual(page.data.map((m: { message_id: string }) => m.message_id), ['c', 'd']);
  assert.deepEqual(await ids(svc, '?limit=2&offset=4'), ['e']);
  const past = await getJson(svc, '/messages?limit=2&offset=10');
  assert.deepEqual(past, { data: [], total: 5, limit: 2, offset: 10 });
});

const BAD_INTEGERS: readonly [string, string, string][] = [
  ['limit', '0', 'greater_than_equal'],
  ['limit', '101', 'less_than_equal'],
  ['limit', '-1', 'greater_than_equal'],
  ['limit', 'abc', 'int_parsing'],
  ['limit', '', 'int_parsing'],
  ['limit', '1.5', 'int_parsing'],
  ['offset', '-1', 'greater_than_equal'],
  ['offset', 'abc', 'int_parsing'],
  ['offset', '', 'int_parsing'],
];

for (const [field, value, type] of BAD_INTEGERS) {
  test(`${field}=${JSON.stringify(value)} is a 422 in the FastAPI shape`, async (t) => {
    const svc = await fresh(t);
    const body = await getJson(svc, `/messages?${field}=${encodeURIComponent(value)}`, 422);
    assert.deepEqual(Object.keys(body), ['detail']);
    assert.equal(body.detail.length, 1);
    const [problem] = body.detail;
    assert.deepEqual(Object.keys(problem).sort(), ['loc', 'msg', 'type']);
    assert.deepEqual(problem.loc, ['query', field]);
    assert.equal(problem.type, type);
    assert.equal(typeof problem.msg, 'string');
    assert.ok(problem.msg.length > 0);
  });
}

test('bad limit and offset are both reported', async (t) => {
  const svc = await fresh(t);
  const body = await getJson(svc, '/messages?limit=0&offset=-5', 422);
  assert.deepEqual(body.detail.map((d: { loc: string[] }) => d.loc), [['query', 'limit'], ['query', 'offset']]);
});

test('order is by instant, then message_id in byte order', async (t) => {
  const svc = await fresh(t);
  const m = (message_id: string, ts: string): Record<string, unknown> => message({ message_id, ts });
  await seed(svc, [
    m('half', '2025-01-15T10:00:00.5Z'),
    m('zero', '2025-01-15T10:00:00Z'),
    m('one', '2025-01-15T10:00:01Z'),
    m('b', '2025-01-15T10:00:02Z'),
    m('a', '2025-01-15T10:00:02Z'),
    m('B', '2025-01-15T10:00:02Z'),
    // U+FF21 is below U+1F600 in UTF-8 byte order, above it in UTF-16 code-unit order.
    m('\u{1F600}', '2025-01-15T10:00:03Z'),
    m('\uFF21', '2025-01-15T10:00:03Z'),
    m('nanos', '2025-01-15T10:00:00.000000001Z'),
  ]);
  assert.deepEqual(await ids(svc, ''), ['zero', 'nanos', 'half', 'one', 'B', 'a', 'b', '\uFF21', '\u{1F600}']);
  assert.deepEqual(await ids(svc, '?limit=3&offset=3'), ['one', 'B', 'a']);
});

test('since keeps messages at or after the instant, not the text', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    message({ message_id: 'half', ts: '2025-01-15T10:00:00.5Z' }),
    message({ message_id: 'zero', ts: '2025-01-15T10:00:00Z' }),
    message({ message_id: 'one', ts: '2025-01-15T10:00:01Z' }),
  ]);
  for (const since of ['2025-01-15T10:00:00.5Z', '2025-01-15T10:00:00.500Z', '2025-01-15T10:00:00.500000000Z']) {
    const body = await getJson(svc, `/messages?since=${encodeURIComponent(since)}`);
    assert.deepEqual([body.total, body.data.map((m: { message_id: string }) => m.message_id)], [2, ['half', 'one']], since);
  }
  assert.deepEqual(await ids(svc, '?since=2025-01-15T10:00:00Z'), ['zero', 'half', 'one']);
  assert.deepEqual(await ids(svc, '?since=2025-01-15T10:00:00.500000001Z'), ['one']);
  assert.deepEqual(await ids(svc, '?since=2025-01-15T10:00:01.1Z'), []);
});

for (const since of ['2025-01-15T10:00:00+00:00', '2025-01-15T10:00:00z', '2025-01-15 10:00:00Z', '1736935200', 'yesterday', '', '2025-02-30T10:00:00Z', '2025-01-15T10:00:00.1234567890Z']) {
  test(`since=${JSON.stringify(since)} is a 422 at ["query","since"]`, async (t) => {
    const svc = await fresh(t);
    const body = await getJson(svc, `/messages?since=${encodeURIComponent(since)}`, 422);
    assert.equal(body.detail.length, 1);
    assert.deepEqual(body.detail[0].loc, ['query', 'since']);
    assert.equal(typeof body.detail[0].type, 'string');
    assert.equal(typeof body.detail[0].msg, 'string');
  });
}

test('from is an exact match, also with an encoded or a raw unencoded "+"', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    message({ message_id: 'mine-1', from: '+919876543210' }),
    message({ message_id: 'other', from: '+14155550100' }),
    message({ message_id: 'longer', from: '+9198765432101' }),
    message({ message_id: 'mine-2', from: '+919876543210' }),
  ]);
  assert.deepEqual(await ids(svc, '?from=%2B919876543210'), ['mine-1', 'mine-2']);
  const raw = await fetch(`${svc.url}/messages?from=+919876543210`);
  assert.equal(raw.status, 200);
  const body = await bodyOf(raw);
  assert.deepEqual([body.total, body.data.map((m: { message_id: string }) => m.message_id)], [2, ['mine-1', 'mine-2']]);
  assert.deepEqual(await ids(svc, '?from=%2B91987654321'), []);
  assert.deepEqual(await ids(svc, '?from=919876543210'), []);
  assert.deepEqual(await ids(svc, '?from=%2B14155550100'), ['other']);
});

test('q is a case-insensitive substring for all of Unicode', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    message({ message_id: 'cafe-upper', text: 'Un CAFÉ noir' }),
    message({ message_id: 'cafe-decomposed', text: 'cafe\u0301 au lait' }),
    message({ message_id: 'strasse', text: 'HAUPTSTRASSE 5' }),
    message({ message_id: 'strasse-sharp', text: 'Hauptstraße 5' }),
    message({ message_id: 'greek', text: 'ΟΔΟΣ' }),
    message({ message_id: 'plain', text: 'nothing here' }),
  ]);
  assert.deepEqual(await ids(svc, `?q=${encodeURIComponent('é')}`), ['cafe-decomposed', 'cafe-upper']);
  assert.deepEqual(await ids(svc, `?q=${encodeURIComponent('CAFÉ')}`), ['cafe-decomposed', 'cafe-upper']);
  assert.deepEqual(await ids(svc, `?q=${encodeURIComponent('e\u0301')}`), ['cafe-decomposed', 'cafe-upper']);
  // src/domain/fold.ts folds with upper-then-lower, so ß and SS are the same.
  assert.deepEqual(await ids(svc, `?q=${encodeURIComponent('straße')}`), ['strasse', 'strasse-sharp']);
  assert.deepEqual(await ids(svc, '?q=STRASSE'), ['strasse', 'strasse-sharp']);
  assert.deepEqual(await ids(svc, `?q=${encodeURIComponent('οδος')}`), ['greek']);
  assert.deepEqual(await ids(svc, '?q=NOTHING'), ['plain']);
  assert.deepEqual(await ids(svc, '?q=absent'), []);
});

test('% and _ in q are literal characters, not wildcards', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    message({ message_id: 'pct', text: 'now 50% off' }),
    message({ message_id: 'five-hundred', text: 'now 500 off' }),
    message({ message_id: 'fifty', text: 'now 50 off' }),
    message({ message_id: 'underscore', text: 'key a_b set' }),
    message({ message_id: 'axb', text: 'key axb set' }),
  ]);
  assert.deepEqual(await ids(svc, '?q=50%25'), ['pct']);
  assert.deepEqual(await ids(svc, '?q=a_b'), ['underscore']);
  assert.deepEqual(await ids(svc, '?q=%25'), ['pct']);
  assert.deepEqual(await ids(svc, '?q=_'), ['underscore']);
});

test('messages without text never match q', async (t) => {
  const svc = await fresh(t);
  await seed(svc, [
    message({ message_id: 'null-text', text: null }),
    message({ message_id: 'no-text', text: undefined }),
    message({ message_id: 'empty', text: '' }),
    message({ message_id: 'word', text: 'null' }),
  ]);
  assert.deepEqual(await ids(svc, '?q=null'), ['word']);
  assert.deepEqual(await ids(svc, '?q=u'), ['word']);
  // Without q every message is listed, text or not.
  const all = await getJson(svc, '/messages');
  assert.equal(all.total, 4);
  // All share one ts, so they come in message_id order: empty, no-text, null-text, word.
  assert.deepEqual(all.data.map((m: { text: unknown }) => m.text), ['', null, null, 'null']);
});

test('filters combine with AND, and total counts only the matches', async (t) => {
  const svc = await fresh(t);
  const A = '+919876543210';
  const B = '+14155550100';
  await seed(svc, [
    message({ message_id: 'a-early-hit', from: A, ts: '2025-01-15T09:00:00Z', text: 'Order shipped' }),
    message({ message_id: 'a-late-hit', from: A, ts: '2025-01-15T11:00:00Z', text: 'ORDER delivered' }),
    message({ message_id: 'a-late-hit-2', from: A, ts: '2025-01-15T12:00:00Z', text: 'reorder please' }),
    message({ message_id: 'a-late-miss', from: A, ts: '2025-01-15T11:30:00Z', text: 'thanks' }),
    message({ message_id: 'b-late-hit', from: B, ts: '2025-01-15T11:00:00Z', text: 'order' }),
  ]);
  const body = await getJson(svc, `/messages?from=${encodeURIComponent(A)}&since=2025-01-15T10:00:00Z&q=order&limit=1`);
  assert.deepEqual([body.total, body.limit, body.data.map((m: { message_id: string }) => m.message_id)], [2, 1, ['a-late-hit']]);
  assert.deepEqual(await ids(svc, `?from=${encodeURIComponent(A)}&q=order`), ['a-early-hit', 'a-late-hit', 'a-late-hit-2']);
  assert.deepEqual(await ids(svc, '?since=2025-01-15T10:00:00Z&q=order'), ['a-late-hit', 'b-late-hit', 'a-late-hit-2']);
  assert.deepEqual(await ids(svc, `?from=${encodeURIComponent(B)}&since=2025-01-15T11:00:00.001Z`), []);
});

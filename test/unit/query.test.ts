import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListQuery, DEFAULT_LIMIT, MAX_LIMIT } from '../../src/messages/query.ts';
import type { FieldError } from '../../src/http/errors.ts';
import type { ListFilter } from '../../src/storage/store.ts';

function filterOf(query: string): ListFilter {
  const result = parseListQuery(new URLSearchParams(query));
  if (!result.ok) assert.fail(`expected a filter for ${query}, got ${JSON.stringify(result.errors)}`);
  return result.filter;
}

function errorsOf(query: string): FieldError[] {
  const result = parseListQuery(new URLSearchParams(query));
  if (result.ok) assert.fail(`expected errors for ${query}, got ${JSON.stringify(result.filter)}`);
  return result.errors;
}

test('defaults: limit 50, offset 0, no filters', () => {
  assert.deepEqual(filterOf(''), { limit: 50, offset: 0, from: null, since: null, until: null, q: null, after: null });
  assert.equal(DEFAULT_LIMIT, 50);
  assert.equal(MAX_LIMIT, 100);
});

test('limit and offset in range', () => {
  assert.equal(filterOf('limit=1').limit, 1);
  assert.equal(filterOf('limit=100').limit, 100);
  assert.equal(filterOf('limit=37').limit, 37);
  assert.equal(filterOf('offset=0').offset, 0);
  assert.equal(filterOf('offset=12345').offset, 12345);
});

test('bad limits are 422 at ["query","limit"]', async (t) => {
  for (const raw of ['0', '101', '-1', 'abc', '', '1.5', '1e2', '10abc', '0x10', '99999999999999999999']) {
    await t.test(JSON.stringify(raw), () => {
      const errors = errorsOf(`limit=${encodeURIComponent(raw)}`);
      assert.equal(errors.length, 1);
      assert.deepEqual(errors[0]?.loc, ['query', 'limit']);
      assert.equal(typeof errors[0]?.msg, 'string');
      assert.equal(typeof errors[0]?.type, 'string');
    });
  }
});

test('limit error types follow FastAPI', () => {
  assert.equal(errorsOf('limit=0')[0]?.type, 'greater_than_equal');
  assert.equal(errorsOf('limit=101')[0]?.type, 'less_than_equal');
  assert.equal(errorsOf('limit=abc')[0]?.type, 'int_parsing');
  assert.equal(errorsOf('limit=1.5')[0]?.type, 'int_parsing');
});

test('bad offsets are 422 at ["query","offset"]', async (t) => {
  for (const raw of ['-1', 'abc', '', '2.5']) {
    await t.test(JSON.stringify(raw), () => {
      const errors = errorsOf(`offset=${encodeURIComponent(raw)}`);
      assert.equal(errors.length, 1);
      assert.deepEqual(errors[0]?.loc, ['query', 'offset']);
    });
  }
  assert.equal(errorsOf('offset=-1')[0]?.type, 'greater_than_equal');
});

test('since follows the ts grammar and becomes an instant key', () => {
  assert.equal(filterOf('since=2025-01-15T10:00:00Z').since, '2025-01-15T10:00:00.000000000Z');
  assert.equal(filterOf('since=2025-01-15T10:00:00.5Z').since, '2025-01-15T10:00:00.500000000Z');
});

test('since outside the grammar is 422 at ["query","since"]', async (t) => {
  for (const raw of ['2025-01-15T10:00:00+00:00', '2025-01-15T10:00:00z', '2025-01-15 10:00:00Z', '2025-02-29T00:00:00Z', '1736935200', 'yesterday']) {
    await t.test(raw, () => {
      const errors = errorsOf(`since=${encodeURIComponent(raw)}`);
      assert.deepEqual(errors.map((e) => e.loc), [['query', 'since']]);
    });
  }
});

test('an unencoded + in from decodes to a space and is read back as +', () => {
  const params = new URLSearchParams('from=+919876543210');
  assert.equal(params.get('from'), ' 919876543210', 'precondition: URLSearchParams turns + into a space');
  assert.equal(filterOf('from=+919876543210').from, '+919876543210');
  assert.equal(filterOf('from=+9198').from, '+9198');
});

test('an encoded %2B in from is +', () => {
  assert.equal(filterOf('from=%2B919876543210').from, '+919876543210');
});

test('from without a plus is passed through unchanged', () => {
  assert.equal(filterOf('from=919876543210').from, '919876543210');
});

test('q is passed through literally, % and _ included', () => {
  assert.equal(filterOf('q=100%25_off').q, '100%_off');
  assert.equal(filterOf(`q=${encodeURIComponent('%')}`).q, '%');
  assert.equal(filterOf(`q=${encodeURIComponent('_')}`).q, '_');
  assert.equal(filterOf(`q=${encodeURIComponent('Café É')}`).q, 'Café É');
});

test('empty from and q are treated as absent', () => {
  const filter = filterOf('from=&q=');
  assert.equal(filter.from, null);
  assert.equal(filter.q, null);
});

test('the last value wins when a parameter repeats', () => {
  assert.equal(filterOf('limit=5&limit=7').limit, 7);
  assert.equal(filterOf('offset=3&offset=9').offset, 9);
  assert.equal(filterOf('from=%2B111&from=%2B222').from, '+222');
  assert.equal(filterOf('q=first&q=second').q, 'second');
  assert.equal(filterOf('since=2025-01-01T00:00:00Z&since=2025-06-01T00:00:00Z').since, '2025-06-01T00:00:00.000000000Z');
});

test('a bad earlier value does not matter when the last one is good', () => {
  assert.equal(filterOf('limit=abc&limit=10').limit, 10);
});

test('a bad last value is an error even when an earlier one is good', () => {
  assert.deepEqual(errorsOf('limit=10&limit=abc').map((e) => e.loc), [['query', 'limit']]);
});

test('every query problem is reported', () => {
  const errors = errorsOf('limit=0&offset=-1&since=bad');
  assert.deepEqual(errors.map((e) => e.loc), [['query', 'limit'], ['query', 'offset'], ['query', 'since']]);
});

test('query errors never echo the input', () => {
  const errors = errorsOf('limit=LEAKLIMIT&offset=LEAKOFFSET&since=LEAKSINCE');
  const text = JSON.stringify(errors);
  for (const leak of ['LEAKLIMIT', 'LEAKOFFSET', 'LEAKSINCE']) assert.equal(text.includes(leak), false, leak);
});

test('all filters combine', () => {
  assert.deepEqual(filterOf('limit=10&offset=20&from=+1415&since=2025-01-15T10:00:00Z&q=hi'), {
    limit: 10,
    offset: 20,
    from: '+1415',
    since: '2025-01-15T10:00:00.000000000Z',
    until: null,
    q: 'hi',
    after: null,
  });
});

test('order: absent or asc is the list order (no order key), desc is newest first; anything else is 422 at ["query","order"]', () => {
  const asc = parseListQuery(new URLSearchParams('order=asc'));
  assert.ok(asc.ok && !('order' in asc.filter));
  const desc = parseListQuery(new URLSearchParams('order=desc'));
  assert.ok(desc.ok && desc.filter.order === 'desc');
  for (const bad of ['DESC', 'down', '', ' desc']) {
    const parsed = parseListQuery(new URLSearchParams({ order: bad }));
    assert.ok(!parsed.ok, bad);
    assert.deepEqual(parsed.errors.map((e) => [e.loc, e.type]), [[['query', 'order'], 'enum']]);
  }
  // The cursor is read for the order it will be used with.
  const seen: unknown[] = [];
  parseListQuery(new URLSearchParams('order=desc&cursor=abc'), (_cursor, scope) => (seen.push(scope.order), null));
  parseListQuery(new URLSearchParams('cursor=abc'), (_cursor, scope) => (seen.push(scope.order), null));
  assert.deepEqual(seen, ['desc', 'asc']);
});

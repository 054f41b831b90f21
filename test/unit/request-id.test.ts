import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickRequestId } from '../../src/http/request-id.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('safe ids are kept', () => {
  for (const id of ['a', 'abc-123', 'A.b_c:d-e', '0', 'trace:1.2.3_x-Y', 'x'.repeat(128), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-']) {
    assert.equal(pickRequestId(id), id, id);
  }
});

test('unsafe ids are replaced by a new UUID', async (t) => {
  const cases: [string, string | string[] | undefined][] = [
    ['129 chars', 'x'.repeat(129)],
    ['empty', ''],
    ['space', 'a b'],
    ['leading space', ' abc'],
    ['newline', 'abc\n'],
    ['tab', 'a\tb'],
    ['non-ASCII', 'é'],
    ['non-ASCII digit', '١٢٣'],
    ['emoji', 'id-🙂'],
    ['slash', 'a/b'],
    ['quote', 'a"b'],
    ['json injection', '","level":"error'],
    ['array', ['abc']],
    ['array of two', ['abc', 'def']],
    ['missing', undefined],
  ];
  for (const [name, header] of cases) {
    await t.test(name, () => {
      const id = pickRequestId(header);
      assert.match(id, UUID);
      assert.notEqual(id, header);
    });
  }
});

test('each generated id is new', () => {
  const a = pickRequestId(undefined);
  const b = pickRequestId(undefined);
  assert.match(a, UUID);
  assert.match(b, UUID);
  assert.notEqual(a, b);
});

// The PostgreSQL Store's string forms (src/storage/postgres/store/text.ts): the U+0000 escape is
// injective and keeps byte order and substrings; text[] literals; how `q` becomes LIKE or a pattern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldText } from '../../src/domain/fold.ts';
import { fromDb, qPredicate, textArray, toDb } from '../../src/storage/postgres/store/text.ts';

const ALPHABET = ['\u0000', '\u0001', '\u0002', 'a', 'b', 'é', '😀', '%', '\\', '"'];

/** Every string of up to `n` characters of the alphabet. */
function strings(n: number): string[] {
  let level = [''];
  const all = [''];
  for (let i = 0; i < n; i += 1) {
    level = level.flatMap((s) => ALPHABET.map((c) => s + c));
    all.push(...level);
  }
  return all;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

test('the escape: no U+0000 after it, reversible, injective, and the same byte order as before', () => {
  const all = strings(3);
  const seen = new Map<string, string>();
  for (const s of all) {
    const e = toDb(s);
    assert.ok(!e.includes('\u0000'), JSON.stringify(s));
    assert.equal(fromDb(e), s);
    assert.equal(seen.get(e), undefined, `${JSON.stringify(s)} and ${JSON.stringify(seen.get(e))} collide`);
    seen.set(e, s);
  }
  const byOriginal = [...all].sort((x, y) => Buffer.compare(bytes(x), bytes(y)));
  const byEscaped = [...all].sort((x, y) => Buffer.compare(bytes(toDb(x)), bytes(toDb(y))));
  assert.deepEqual(byEscaped, byOriginal);
  assert.equal(toDb('plain text'), 'plain text', 'strings without U+0000 or U+0001 are unchanged');
});

test('a substring is a substring of the escaped form; a match in the escaped form is a real one unless the search starts with U+0000–U+0002', () => {
  const all = strings(3);
  const needles = strings(2).filter((q) => q !== '');
  for (const text of all) {
    for (const q of needles) {
      const real = text.includes(q);
      const escaped = toDb(text).includes(toDb(q));
      if (real) assert.ok(escaped, `${JSON.stringify(q)} in ${JSON.stringify(text)}`);
      if ((q.codePointAt(0) ?? 0) > 2) assert.equal(escaped, real, `${JSON.stringify(q)} in ${JSON.stringify(text)}`);
    }
  }
  // The case the pattern is for: U+0001 is not in "\u0000\u0002", though its escape is in the escape.
  assert.ok(toDb('\u0000\u0002').includes(toDb('\u0001')));
});

test('qPredicate: LIKE with % _ and \\ escaped for ordinary searches, an anchored pattern for the rest, both on the folded text', () => {
  assert.deepEqual(qPredicate('100%_x\\'), { kind: 'like', pattern: '%100\\%\\_x\\\\%' });
  assert.deepEqual(qPredicate('ÉCOLE'), { kind: 'like', pattern: `%${foldText('ÉCOLE')}%` });
  const p = qPredicate('\u0001a.b');
  assert.equal(p.kind, 'regex');
  // Evaluated the way PostgreSQL's ARE would for these characters: U+0001 as \u0001, "." escaped.
  const js = new RegExp(p.pattern.replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\u${h}`), 'u');
  assert.ok(js.test(toDb(foldText('x\u0001a.b'))));
  assert.ok(!js.test(toDb(foldText('x\u0000\u0002a.b'))), 'not inside an escaped U+0000');
  assert.ok(!js.test(toDb(foldText('x\u0001aXb'))), '. is literal');
});

test('textArray: every element quoted, quotes and backslashes escaped, NULL unquoted', () => {
  assert.equal(textArray(['a', 'b"c', 'd\\e', '', null, 'NULL', '{x,y}']), '{"a","b\\"c","d\\\\e","",NULL,"NULL","{x,y}"}');
  assert.equal(textArray([]), '{}');
});

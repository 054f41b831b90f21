import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionalJson, noneMatch, weakEtag } from '../../src/messages/conditional.ts';

test('a weak tag per body: the same body, the same tag', () => {
  const tag = weakEtag('{"a":1}');
  assert.match(tag, /^W\/"[A-Za-z0-9_-]{27}"$/);
  assert.equal(weakEtag('{"a":1}'), tag);
  assert.notEqual(weakEtag('{"a":2}'), tag);
});

test('If-None-Match compares weakly, in lists, and * matches any', () => {
  const tag = weakEtag('x');
  const opaque = tag.slice(2);
  for (const header of [tag, opaque, `"a", ${tag}`, `W/"a",W/${opaque}`, ` ${tag} `, '*', ' * ']) assert.equal(noneMatch(header, tag), true, header);
  for (const header of [undefined, '', '"a"', 'W/"a"', opaque.slice(1), `${opaque.slice(0, -1)}x"`, 'W/', '**', 'garbage']) assert.equal(noneMatch(header, tag), false, String(header));
});

test('conditionalJson: a 200 with the tag, or a 304 carrying it', () => {
  const ok = conditionalJson(undefined, { a: 1 }, { Link: '<x>; rel="next"' });
  assert.equal(ok.kind, 'text');
  assert.ok(ok.kind === 'text' && ok.body === '{"a":1}' && ok.contentType === 'application/json');
  const tag = ok.headers?.['ETag'] ?? '';
  assert.equal(ok.headers?.['Link'], '<x>; rel="next"');
  const hit = conditionalJson(tag, { a: 1 });
  assert.deepEqual(hit, { kind: 'not_modified', headers: { ETag: tag } });
});

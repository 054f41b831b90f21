import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowed, parseReadToken, type ReadToken } from '../../src/auth/read-token.ts';

function token(raw: string): ReadToken {
  const parsed = parseReadToken(raw);
  assert.ok(parsed.ok && parsed.value !== null);
  return parsed.value;
}

test('open routes and an unset token let everyone in', () => {
  assert.equal(allowed('open', token('t'), undefined), true);
  assert.equal(allowed('read_token', null, undefined), true);
  assert.equal(allowed('read_token', null, 'Bearer whatever'), true);
});

test('a read route needs exactly "Bearer <token>" (scheme in any case, spaces around)', () => {
  const t = token('s3cr3t-Token');
  for (const ok of ['Bearer s3cr3t-Token', 'bearer s3cr3t-Token', 'BEARER  s3cr3t-Token', ' Bearer s3cr3t-Token ']) assert.equal(allowed('read_token', t, ok), true, ok);
  for (const bad of [undefined, '', 'Bearer', 'Bearer ', 's3cr3t-Token', 'Bearer s3cr3t-token', 'Bearer s3cr3t-Token2', 'Bearer s3cr3t', 'Basic s3cr3t-Token', 'Bearer s3cr3t-Token x', 'Bearers3cr3t-Token', 'Bearer\ts3cr3t-Token']) {
    assert.equal(allowed('read_token', t, bad), false, String(bad));
  }
});

test('a token is kept as its SHA-256 digest only', () => {
  const t = token('visible-token');
  assert.equal(t.digest.length, 32);
  assert.ok(!JSON.stringify(t).includes('visible-token'));
  assert.ok(!t.digest.toString('latin1').includes('visible-token'));
});

test('READ_TOKEN must be a b64token of at most 4096 characters', () => {
  assert.deepEqual(parseReadToken(undefined), { ok: true, value: null });
  assert.deepEqual(parseReadToken(''), { ok: true, value: null });
  for (const good of ['a', 'A-Z.a_z~0+9/', 'abc==', 'x'.repeat(4096)]) assert.equal(parseReadToken(good).ok, true, good);
  for (const bad of ['a b', 'a=b', '=', 'tab\t', 'ü', 'x'.repeat(4097), 'a,b', 'a;b']) assert.equal(parseReadToken(bad).ok, false, bad);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSecretKey } from 'node:crypto';
import { sign, verifySignature } from '../../src/webhook/signature.ts';

const SECRET = createSecretKey(Buffer.from('testsecret', 'utf8'));
const RAW = Buffer.from('{"message_id":"m1","from":"+919876543210","to":"+14155550100","ts":"2025-01-15T10:00:00Z","text":"Hello"}', 'utf8');
const HEX = createHmac('sha256', SECRET).update(RAW).digest('hex');

test('sign matches the RFC 4231 HMAC-SHA256 test vector', () => {
  assert.equal(
    sign('Jefe', 'what do ya want for nothing?'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
});

test('sign returns 64 lower-case hex characters of the raw bytes', () => {
  assert.equal(sign(SECRET, RAW), HEX);
  assert.match(HEX, /^[0-9a-f]{64}$/);
});

test('a correct lower-case signature verifies', () => {
  assert.equal(verifySignature(SECRET, RAW, HEX), true);
});

test('a correct upper-case signature verifies', () => {
  assert.equal(verifySignature(SECRET, RAW, HEX.toUpperCase()), true);
});

test('a correct mixed-case signature verifies', () => {
  const mixed = [...HEX].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
  assert.equal(verifySignature(SECRET, RAW, mixed), true);
});

test('a wrong value is rejected', () => {
  const last = HEX.at(-1) === '0' ? '1' : '0';
  assert.equal(verifySignature(SECRET, RAW, `${HEX.slice(0, -1)}${last}`), false);
  assert.equal(verifySignature(SECRET, RAW, '0'.repeat(64)), false);
});

test('a signature made with another secret is rejected', () => {
  assert.equal(verifySignature(SECRET, RAW, sign('othersecret', RAW)), false);
});

test('a signature over another body is rejected', () => {
  assert.equal(verifySignature(SECRET, Buffer.concat([RAW, Buffer.from(' ')]), HEX), false);
});

test('wrong lengths are rejected', async (t) => {
  const cases: [string, string][] = [
    ['63 chars', HEX.slice(0, 63)],
    ['65 chars', `${HEX}0`],
    ['32 chars', HEX.slice(0, 32)],
    ['128 chars', HEX + HEX],
    ['empty', ''],
  ];
  for (const [name, header] of cases) {
    await t.test(name, () => assert.equal(verifySignature(SECRET, RAW, header), false));
  }
});

test('non-hex is rejected', async (t) => {
  const cases: [string, string][] = [
    ['g at the end', `${HEX.slice(0, 63)}g`],
    ['all z', 'z'.repeat(64)],
    ['0x prefix', `0x${HEX.slice(0, 62)}`],
    ['sha256= prefix', `sha256=${HEX}`],
    ['base64 of the digest', createHmac('sha256', SECRET).update(RAW).digest('base64')],
    ['inner space', `${HEX.slice(0, 32)} ${HEX.slice(33)}`],
    ['trailing newline', `${HEX}\n`],
    ['valid hex followed by garbage', `${HEX.slice(0, 62)}zz`],
  ];
  for (const [name, header] of cases) {
    await t.test(name, () => assert.equal(verifySignature(SECRET, RAW, header), false));
  }
});

test('non-ASCII is rejected', async (t) => {
  const cases: [string, string][] = [
    ['é in place of a digit', `${HEX.slice(0, 63)}é`],
    ['fullwidth digits', '０'.repeat(64)],
    ['Arabic-Indic digits', '٠'.repeat(64)],
    ['a latin1 byte string', `${HEX.slice(0, 62)}\u00ff\u00fe`],
  ];
  for (const [name, header] of cases) {
    await t.test(name, () => assert.equal(verifySignature(SECRET, RAW, header), false));
  }
});

test('a missing header is rejected', () => {
  assert.equal(verifySignature(SECRET, RAW, undefined), false);
});

test('an array header is rejected even when it holds the right value', () => {
  assert.equal(verifySignature(SECRET, RAW, [HEX]), false);
  assert.equal(verifySignature(SECRET, RAW, [HEX, HEX]), false);
  assert.equal(verifySignature(SECRET, RAW, []), false);
});

test('the signature is over the raw bytes, not re-serialised JSON', () => {
  const raw = Buffer.from('{ "message_id" : "m1",\n  "text": "x" }', 'utf8');
  const header = sign(SECRET, raw);
  assert.equal(verifySignature(SECRET, raw, header), true);
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))), 'utf8');
  assert.notDeepEqual(reserialised, raw);
  assert.equal(verifySignature(SECRET, reserialised, header), false);
  const pretty = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8')), null, 2), 'utf8');
  assert.equal(verifySignature(SECRET, pretty, header), false);
});

test('non-UTF-8 raw bytes are signed as bytes', () => {
  const raw = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);
  const header = createHmac('sha256', SECRET).update(raw).digest('hex');
  assert.equal(verifySignature(SECRET, raw, header), true);
  // The lossy UTF-8 round trip replaces the invalid bytes and must not verify.
  assert.equal(verifySignature(SECRET, Buffer.from(raw.toString('utf8'), 'utf8'), header), false);
});

test('the secret is used as its UTF-8 bytes', () => {
  const secret = createSecretKey(Buffer.from('clé', 'utf8'));
  const header = createHmac('sha256', Buffer.from([0x63, 0x6c, 0xc3, 0xa9])).update(RAW).digest('hex');
  assert.equal(verifySignature(secret, RAW, header), true);
  assert.equal(verifySignature(createSecretKey(Buffer.from('clé', 'latin1')), RAW, header), false);
});

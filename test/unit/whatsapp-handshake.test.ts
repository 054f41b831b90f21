// Meta's GET handshake and the body budget of the WhatsApp route, as pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { budgetFor, bytesToReserve, createByteBudget, WHATSAPP_BODY_BUDGET_BYTES } from '../../src/whatsapp/budget.ts';
import { checkHandshake, handleHandshake } from '../../src/whatsapp/handshake.ts';

const TOKEN = 'my-verify-token';
const DIGEST = createHash('sha256').update(TOKEN).digest();
const q = (s: string): URLSearchParams => new URLSearchParams(s);

test('subscribe with the right token answers the challenge', () => {
  assert.deepEqual(checkHandshake(q(`hub.mode=subscribe&hub.verify_token=${TOKEN}&hub.challenge=1158201444`), DIGEST), { ok: true, challenge: '1158201444' });
  assert.deepEqual(checkHandshake(q(`hub.challenge=Ab_-9&hub.verify_token=${TOKEN}&hub.mode=subscribe`), DIGEST), { ok: true, challenge: 'Ab_-9' });
  const reply = handleHandshake(DIGEST, q(`hub.mode=subscribe&hub.verify_token=${TOKEN}&hub.challenge=${'c'.repeat(128)}`));
  assert.deepEqual(reply, { kind: 'text', status: 200, body: 'c'.repeat(128), contentType: 'text/plain', log: { result: 'verified' } });
});

test('a wrong or missing token, another mode, or no configured token: verification_failed', () => {
  const failed = { ok: false, reason: 'verification_failed' };
  for (const query of [
    `hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`,
    `hub.mode=subscribe&hub.verify_token=${TOKEN}x&hub.challenge=1`,
    `hub.mode=subscribe&hub.verify_token=${TOKEN.slice(0, -1)}&hub.challenge=1`,
    `hub.mode=subscribe&hub.verify_token=&hub.challenge=1`,
    `hub.mode=subscribe&hub.challenge=1`,
    `hub.mode=unsubscribe&hub.verify_token=${TOKEN}&hub.challenge=1`,
    `hub.mode=SUBSCRIBE&hub.verify_token=${TOKEN}&hub.challenge=1`,
    `hub.verify_token=${TOKEN}&hub.challenge=1`,
    `hub_mode=subscribe&hub_verify_token=${TOKEN}&hub_challenge=1`,
    // Repeats: the last value counts.
    `hub.mode=subscribe&hub.verify_token=${TOKEN}&hub.verify_token=other&hub.challenge=1`,
    '',
  ]) {
    assert.deepEqual(checkHandshake(q(query), DIGEST), failed, query);
  }
  assert.deepEqual(checkHandshake(q(`hub.mode=subscribe&hub.verify_token=${TOKEN}&hub.challenge=1`), null), failed);
  assert.deepEqual(checkHandshake(q(`hub.mode=subscribe&hub.verify_token=other&hub.verify_token=${TOKEN}&hub.challenge=1`), DIGEST), { ok: true, challenge: '1' });
  assert.deepEqual(handleHandshake(null, q('hub.mode=subscribe')), { kind: 'error', code: 'verification_failed', log: { result: 'verification_failed' } });
});

test('with the right token, a challenge outside 1–128 of [A-Za-z0-9_-] is invalid_challenge', () => {
  for (const challenge of ['', 'c'.repeat(129), 'a b', 'a%2Fb', '<script>', 'é', 'a.b', '%00', 'a+b']) {
    const params = q(`hub.mode=subscribe&hub.verify_token=${TOKEN}&hub.challenge=${challenge}`);
    assert.deepEqual(checkHandshake(params, DIGEST), { ok: false, reason: 'invalid_challenge' }, challenge);
  }
  assert.deepEqual(checkHandshake(q(`hub.mode=subscribe&hub.verify_token=${TOKEN}`), DIGEST), { ok: false, reason: 'invalid_challenge' });
  // A Unicode token works (percent-encoded in the query).
  const unicode = 'jeton-é✓';
  assert.equal(checkHandshake(q(`hub.mode=subscribe&hub.verify_token=${encodeURIComponent(unicode)}&hub.challenge=1`), createHash('sha256').update(unicode).digest()).ok, true);
});

test('the byte budget: reservations up to capacity, released exactly', () => {
  const budget = createByteBudget(100);
  assert.equal(budget.tryReserve(60), true);
  assert.equal(budget.tryReserve(41), false);
  assert.equal(budget.tryReserve(40), true);
  assert.equal(budget.used, 100);
  assert.equal(budget.tryReserve(0), true, 'a request refused unread (over the limit) needs no room');
  budget.release(60);
  assert.equal(budget.tryReserve(60), true);
  budget.release(100);
  budget.release(100);
  assert.equal(budget.used, 0);
});

test('what a request reserves: its Content-Length, 0 above the limit, the limit when it streams', () => {
  assert.equal(bytesToReserve('1000', 5000), 1000);
  assert.equal(bytesToReserve('0', 5000), 0);
  assert.equal(bytesToReserve('5000', 5000), 5000);
  assert.equal(bytesToReserve('5001', 5000), 0);
  assert.equal(bytesToReserve(undefined, 5000), 5000);
  assert.equal(bytesToReserve('99999999999999999999', 5000), 5000);
  assert.equal(budgetFor(3 * 1024 * 1024), WHATSAPP_BODY_BUDGET_BYTES);
  assert.equal(budgetFor(512 * 1024 * 1024), 512 * 1024 * 1024, 'one body of the largest size always fits');
});

// The configuration of the senders' schemes and the WhatsApp route (SPEC.md, version 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createHash } from 'node:crypto';
import { loadConfig, type Config, type Env } from '../../src/config.ts';

function ok(env: Env): Config {
  const result = loadConfig(env);
  if (!result.ok) assert.fail(`expected a config, got problems: ${result.problems.join(' | ')}`);
  return result.config;
}

function problems(env: Env): string[] {
  const result = loadConfig(env);
  if (result.ok) assert.fail('expected problems, got a config');
  return result.problems;
}

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

test('defaults: no keys, tolerance 300 s, WhatsApp unset with a 3 MiB limit', () => {
  const config = ok({});
  assert.deepEqual(config.webhookKeys, []);
  assert.equal(config.toleranceSeconds, 300);
  assert.equal(config.whatsappAppSecret, null);
  assert.equal(config.whatsappVerifyTokenDigest, null);
  assert.equal(config.whatsappMaxBodyBytes, 3_145_728);
});

test('WEBHOOK_SECRET is key "current"; WEBHOOK_SECRET_PREVIOUS adds previous_1 … previous_5 in order', () => {
  const config = ok({ WEBHOOK_SECRET: 'now', WEBHOOK_SECRET_PREVIOUS: ' old1\told2\n old3  old4 old5 ' });
  assert.deepEqual(config.webhookKeys.map((k) => k.name), ['current', 'previous_1', 'previous_2', 'previous_3', 'previous_4', 'previous_5']);
  assert.deepEqual(config.webhookKeys.map((k) => k.utf8.export().toString()), ['now', 'old1', 'old2', 'old3', 'old4', 'old5']);
  assert.deepEqual(config.webhookSecret?.export(), Buffer.from('now'));
  assert.equal(ok({ WEBHOOK_SECRET: 'now', WEBHOOK_SECRET_PREVIOUS: '   ' }).webhookKeys.length, 1);
});

test('more than 5 previous secrets stop the start, without echoing any', () => {
  const found = problems({ WEBHOOK_SECRET: 'now', WEBHOOK_SECRET_PREVIOUS: 'sa sb sc sd se sf' });
  assert.deepEqual(found, ['WEBHOOK_SECRET_PREVIOUS: at most 5 secrets (whitespace-separated), got 6']);
});

test('a whsec_ secret is decoded for Standard Webhooks; a malformed one stops the start', () => {
  const [key] = ok({ WEBHOOK_SECRET: WHSEC }).webhookKeys;
  assert.deepEqual(key?.standard.export(), Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  assert.deepEqual(key?.utf8.export(), Buffer.from(WHSEC));
  const short = `whsec_${Buffer.alloc(16).toString('base64')}`;
  assert.deepEqual(problems({ WEBHOOK_SECRET: short }), ['WEBHOOK_SECRET: a whsec_ secret must be canonical base64 of 24 to 64 bytes']);
  assert.deepEqual(problems({ WEBHOOK_SECRET: 'x', WEBHOOK_SECRET_PREVIOUS: `${WHSEC} whsec_%%%` }), ['WEBHOOK_SECRET_PREVIOUS: secret 2: a whsec_ secret must be canonical base64 of 24 to 64 bytes']);
  assert.deepEqual(problems({ WEBHOOK_SECRET: 'x', WEBHOOK_SECRET_PREVIOUS: `whsec_%%% ${WHSEC} whsec_AAAA plain` }), ['WEBHOOK_SECRET_PREVIOUS: secrets 1, 3: a whsec_ secret must be canonical base64 of 24 to 64 bytes']);
  for (const p of [...problems({ WEBHOOK_SECRET: short }), ...problems({ WEBHOOK_SECRET: 'x', WEBHOOK_SECRET_PREVIOUS: 'whsec_%%%' })]) {
    assert.ok(!p.includes(short) && !p.includes('%%%'), p);
  }
});

test('previous secrets without a current one are not used (POST /webhook is 503)', () => {
  const config = ok({ WEBHOOK_SECRET_PREVIOUS: 'old1' });
  assert.equal(config.webhookSecret, null);
  assert.deepEqual(config.webhookKeys, []);
});

test('WEBHOOK_TOLERANCE_SECONDS: 1–3600', () => {
  assert.equal(ok({ WEBHOOK_TOLERANCE_SECONDS: '1' }).toleranceSeconds, 1);
  assert.equal(ok({ WEBHOOK_TOLERANCE_SECONDS: ' 3600 ' }).toleranceSeconds, 3600);
  for (const bad of ['0', '3601', '-5', '1.5', 'abc', '1e3']) {
    assert.deepEqual(problems({ WEBHOOK_TOLERANCE_SECONDS: bad }), ['WEBHOOK_TOLERANCE_SECONDS: must be a whole number from 1 to 3600'], bad);
  }
});

test('WhatsApp: the app secret is its UTF-8 bytes, the verify token kept only as a digest, the body limit 1 byte to 1 GiB', () => {
  const config = ok({ WHATSAPP_APP_SECRET: 'app-sécret', WHATSAPP_VERIFY_TOKEN: 'tok', WHATSAPP_MAX_BODY_BYTES: '1048576' });
  assert.deepEqual(config.whatsappAppSecret?.export(), Buffer.from('app-sécret', 'utf8'));
  assert.deepEqual(config.whatsappVerifyTokenDigest, createHash('sha256').update('tok').digest());
  assert.equal(config.whatsappMaxBodyBytes, 1_048_576);
  assert.equal(ok({ WHATSAPP_APP_SECRET: '', WHATSAPP_VERIFY_TOKEN: '' }).whatsappAppSecret, null);
  assert.equal(ok({ WHATSAPP_VERIFY_TOKEN: '' }).whatsappVerifyTokenDigest, null);
  for (const bad of ['0', '1073741825', 'lots']) {
    assert.deepEqual(problems({ WHATSAPP_MAX_BODY_BYTES: bad }), ['WHATSAPP_MAX_BODY_BYTES: must be a whole number from 1 to 1073741824'], bad);
  }
});

test('inspecting the config never shows a secret or the token', () => {
  const config = ok({ WEBHOOK_SECRET: 'cur-s3cret', WEBHOOK_SECRET_PREVIOUS: 'prev-s3cret', WHATSAPP_APP_SECRET: 'wa-s3cret', WHATSAPP_VERIFY_TOKEN: 'tok-s3cret' });
  const shown = `${inspect(config, { depth: 10 })} ${JSON.stringify(config)}`;
  for (const secret of ['cur-s3cret', 'prev-s3cret', 'wa-s3cret', 'tok-s3cret']) assert.ok(!shown.includes(secret), secret);
});

test('every problem at once', () => {
  const found = problems({ WEBHOOK_SECRET: 'whsec_x', WEBHOOK_SECRET_PREVIOUS: '1 2 3 4 5 6', WEBHOOK_TOLERANCE_SECONDS: '0', WHATSAPP_MAX_BODY_BYTES: '0' });
  assert.equal(found.length, 4, found.join('\n'));
});

// The signature schemes as pure functions over (headers, raw bytes, keys, clock): the published
// test vectors, every rule of SPEC.md's "Senders' signature schemes", and header values that must
// be refused without a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { detectScheme, verifyDelivery } from '../../src/webhook/schemes/detect.ts';
import { verifyHub } from '../../src/webhook/schemes/hub.ts';
import { KEY_NAMES, signingKey, standardKeyBytes, type SigningKey } from '../../src/webhook/schemes/keys.ts';
import { MAX_SIGNATURE_ENTRIES, v1Signatures, verifyStandard } from '../../src/webhook/schemes/standard.ts';
import type { RequestHeaders, VerifyContext } from '../../src/webhook/schemes/types.ts';
import { verifyXSignature } from '../../src/webhook/schemes/x-signature.ts';
import { createRandom } from '../helpers/seeded.ts';

// https://github.com/standard-webhooks/standard-webhooks (the reference libraries' test vector)
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SW_TS = '1614265330';
const SW_BODY = Buffer.from('{"test": 2432232314}', 'utf8');
const SW_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
const GH_SECRET = "It's a Secret to Everybody";
const GH_BODY = Buffer.from('Hello, World!', 'utf8');
const GH_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

function keys(...secrets: string[]): SigningKey[] {
  return secrets.map((secret, i) => {
    const key = signingKey(KEY_NAMES[i] ?? 'previous_5', secret);
    assert.ok(key !== null, `secret ${i} parses`);
    return key;
  });
}

const at = (seconds: number, toleranceSeconds = 300): VerifyContext => ({ now: new Date(seconds * 1000), toleranceSeconds });
const AT_VECTOR = at(Number(SW_TS));
const swHeaders = (overrides: Record<string, string | string[] | undefined> = {}, prefix = 'webhook-'): RequestHeaders => ({
  [`${prefix}id`]: SW_ID,
  [`${prefix}timestamp`]: SW_TS,
  [`${prefix}signature`]: SW_SIGNATURE,
  ...overrides,
});
const SW_GOOD = SW_SIGNATURE.slice(3);

function standardSignature(secret: string, id: string, ts: string, body: Buffer): string {
  const bytes = standardKeyBytes(secret);
  assert.ok(bytes !== null);
  return `v1,${createHmac('sha256', bytes).update(`${id}.${ts}.`).update(body).digest('base64')}`;
}

test('the Standard Webhooks test vector verifies, with the clock injected at its timestamp', () => {
  assert.deepEqual(verifyDelivery(swHeaders(), SW_BODY, keys(SW_SECRET), AT_VECTOR), { ok: true, scheme: 'standard', key: 'current', deliveryId: SW_ID });
  assert.equal(standardSignature(SW_SECRET, SW_ID, SW_TS, SW_BODY), SW_SIGNATURE);
});

test('the svix- prefixed headers are the same scheme', () => {
  assert.equal(detectScheme(swHeaders({}, 'svix-')), 'standard');
  assert.deepEqual(verifyDelivery(swHeaders({}, 'svix-'), SW_BODY, keys(SW_SECRET), AT_VECTOR), { ok: true, scheme: 'standard', key: 'current', deliveryId: SW_ID });
});

test("GitHub's test vector verifies as X-Hub-Signature-256", () => {
  assert.deepEqual(verifyDelivery({ 'x-hub-signature-256': GH_SIGNATURE }, GH_BODY, keys(GH_SECRET), at(0)), { ok: true, scheme: 'hub', key: 'current' });
  assert.deepEqual(verifyDelivery({ 'x-hub-signature-256': GH_SIGNATURE.toUpperCase().replace('SHA256=', 'sha256=') }, GH_BODY, keys(GH_SECRET), at(0)), { ok: true, scheme: 'hub', key: 'current' });
});

test('the replay window: within WEBHOOK_TOLERANCE_SECONDS in either direction, stale_timestamp outside', () => {
  const ts = Number(SW_TS);
  const verdict = (now: number, tolerance = 300): unknown => verifyDelivery(swHeaders(), SW_BODY, keys(SW_SECRET), at(now, tolerance));
  for (const now of [ts - 300, ts - 1, ts, ts + 1, ts + 300]) assert.equal((verdict(now) as { ok: boolean }).ok, true, `now ${now - ts}`);
  for (const now of [ts - 301, ts + 301, ts + 86_400, 0]) {
    assert.deepEqual(verdict(now), { ok: false, scheme: 'standard', reason: 'stale_timestamp', deliveryId: SW_ID }, `now ${now - ts}`);
  }
  assert.equal((verdict(ts + 3600, 3600) as { ok: boolean }).ok, true);
  assert.equal((verdict(ts + 2, 1) as { reason: string }).reason, 'stale_timestamp');
  // Milliseconds of the clock do not widen the window.
  const ctx: VerifyContext = { now: new Date((ts + 300) * 1000 + 999), toleranceSeconds: 300 };
  assert.equal(verifyDelivery(swHeaders(), SW_BODY, keys(SW_SECRET), ctx).ok, true);
});

test('a forged delivery with an old timestamp is an invalid signature, not stale', () => {
  const headers = swHeaders({ 'webhook-timestamp': '1000000000' });
  assert.deepEqual(verifyDelivery(headers, SW_BODY, keys(SW_SECRET), AT_VECTOR), { ok: false, scheme: 'standard', reason: 'mismatch', deliveryId: SW_ID });
});

test('every configured key is tried; the match names its position', () => {
  const all = keys('current-key', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5');
  for (const [i, secret] of ['current-key', 'old-1', 'old-2', 'old-3', 'old-4', 'old-5'].entries()) {
    const body = Buffer.from(`{"n":${i}}`);
    const hex = createHmac('sha256', secret).update(body).digest('hex');
    assert.deepEqual(verifyDelivery({ 'x-signature': hex }, body, all, at(0)), { ok: true, scheme: 'x_signature', key: KEY_NAMES[i] });
    assert.deepEqual(verifyDelivery({ 'x-hub-signature-256': `sha256=${hex}` }, body, all, at(0)), { ok: true, scheme: 'hub', key: KEY_NAMES[i] });
    const sw = standardSignature(secret, 'id-1', SW_TS, body);
    assert.deepEqual(verifyDelivery(swHeaders({ 'webhook-id': 'id-1', 'webhook-signature': sw }), body, all, AT_VECTOR), { ok: true, scheme: 'standard', key: KEY_NAMES[i], deliveryId: 'id-1' });
  }
  // The same secret twice: the earlier position is reported.
  const twice = keys('same', 'same');
  const hex = createHmac('sha256', 'same').update('x').digest('hex');
  assert.deepEqual(verifyDelivery({ 'x-signature': hex }, Buffer.from('x'), twice, at(0)), { ok: true, scheme: 'x_signature', key: 'current' });
  assert.deepEqual(verifyDelivery({ 'x-signature': hex }, Buffer.from('x'), [], at(0)), { ok: false, scheme: 'x_signature', reason: 'mismatch' });
});

test('key bytes: whsec_ is decoded for Standard Webhooks only; X-Signature and hub use the whole string', () => {
  const [key] = keys(SW_SECRET);
  assert.ok(key !== undefined);
  assert.deepEqual(key.standard.export(), Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  assert.deepEqual(key.utf8.export(), Buffer.from(SW_SECRET, 'utf8'));
  const hex = createHmac('sha256', SW_SECRET).update(SW_BODY).digest('hex');
  assert.equal(verifyDelivery({ 'x-signature': hex }, SW_BODY, [key], at(0)).ok, true);
  // A plain secret signs Standard Webhooks with its UTF-8 bytes.
  const plain = standardSignature('plain secret', SW_ID, SW_TS, SW_BODY);
  assert.equal(verifyDelivery(swHeaders({ 'webhook-signature': plain }), SW_BODY, keys('plain secret'), AT_VECTOR).ok, true);
});

test('whsec_ secrets must be canonical base64 of 24–64 bytes', () => {
  const b64 = (n: number): string => Buffer.alloc(n, 7).toString('base64');
  assert.equal(standardKeyBytes(`whsec_${b64(24)}`)?.length, 24);
  assert.equal(standardKeyBytes(`whsec_${b64(64)}`)?.length, 64);
  assert.equal(standardKeyBytes(`whsec_${b64(32).replace(/=+$/, '')}`)?.length, 32, 'padding is optional');
  // 32 bytes end in one data character whose two low bits must be zero: set one.
  const padded = b64(32);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lastData = padded.at(-2) ?? 'A';
  const nonCanonical = `${padded.slice(0, -2)}${alphabet[alphabet.indexOf(lastData) + 1]}=`;
  assert.equal(Buffer.from(nonCanonical, 'base64').length, 32);
  for (const bad of [`whsec_${b64(23)}`, `whsec_${b64(65)}`, 'whsec_', 'whsec_not base64!', `whsec_${b64(30)} `, ` whsec_${b64(30)}`.trim() + '\n', `whsec_${nonCanonical}`, `whsec_${padded}=`, `whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_`]) {
    assert.equal(standardKeyBytes(bad), null, JSON.stringify(bad));
  }
  assert.deepEqual(standardKeyBytes('not-whsec'), Buffer.from('not-whsec'));
});

test('the first scheme whose header is present decides; its failure is final', () => {
  const hex = createHmac('sha256', SW_SECRET).update(SW_BODY).digest('hex');
  const k = keys(SW_SECRET);
  // A broken Standard Webhooks signature next to a valid X-Signature and a valid hub signature.
  const mixed = { ...swHeaders({ 'webhook-signature': 'v1,AAAA' }), 'x-signature': hex, 'x-hub-signature-256': `sha256=${hex}` };
  assert.deepEqual(verifyDelivery(mixed, SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'malformed', deliveryId: SW_ID });
  // Only one of the three Standard Webhooks headers present still chooses that scheme.
  assert.deepEqual(verifyDelivery({ 'webhook-id': SW_ID, 'x-signature': hex }, SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'missing' });
  assert.deepEqual(verifyDelivery({ 'svix-signature': SW_SIGNATURE, 'x-signature': hex }, SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'missing' });
  // A wrong X-Signature with a valid hub signature.
  assert.deepEqual(verifyDelivery({ 'x-signature': '0'.repeat(64), 'x-hub-signature-256': `sha256=${hex}` }, SW_BODY, k, at(0)), { ok: false, scheme: 'x_signature', reason: 'mismatch' });
  assert.deepEqual(verifyDelivery({ 'x-signature': '', 'x-hub-signature-256': `sha256=${hex}` }, SW_BODY, k, at(0)), { ok: false, scheme: 'x_signature', reason: 'malformed' });
  assert.deepEqual(verifyDelivery({}, SW_BODY, k, at(0)), { ok: false, scheme: null, reason: 'missing' });
  assert.deepEqual(verifyDelivery({ 'content-type': 'application/json', 'x-signature-256': hex }, SW_BODY, k, at(0)), { ok: false, scheme: null, reason: 'missing' });
  // webhook- wins over svix- when both sets are present.
  assert.deepEqual(verifyDelivery({ ...swHeaders({}, 'svix-'), 'webhook-id': 'other' }, SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'missing' });
});

test('webhook-signature: v1 entries only, at most 10 entries looked at, any match passes', () => {
  const k = keys(SW_SECRET);
  const check = (signature: string): unknown => verifyStandard(swHeaders({ 'webhook-signature': signature }), SW_BODY, k, AT_VECTOR);
  const okVerdict = { ok: true, scheme: 'standard', key: 'current', deliveryId: SW_ID };
  const other = `v1,${Buffer.alloc(32, 1).toString('base64')}`;
  assert.deepEqual(check(`${other} ${SW_SIGNATURE}`), okVerdict);
  assert.deepEqual(check(`v2,${SW_GOOD} v1a,${SW_GOOD} V1,${SW_GOOD} ${SW_SIGNATURE}`), okVerdict);
  assert.deepEqual(check(`v2,${SW_GOOD}`), { ok: false, scheme: 'standard', reason: 'malformed', deliveryId: SW_ID });
  assert.deepEqual(check(`${other}`), { ok: false, scheme: 'standard', reason: 'mismatch', deliveryId: SW_ID });
  assert.deepEqual(check(`  ${SW_SIGNATURE}   `), okVerdict);
  const nine = Array.from({ length: MAX_SIGNATURE_ENTRIES - 1 }, () => other).join(' ');
  assert.deepEqual(check(`${nine} ${SW_SIGNATURE}`), okVerdict, 'the 10th entry is looked at');
  assert.deepEqual(check(`${nine} ${other} ${SW_SIGNATURE}`), { ok: false, scheme: 'standard', reason: 'mismatch', deliveryId: SW_ID }, 'the 11th is not');
  assert.deepEqual(check(`${nine.replace(/ /g, '   ')}    ${SW_SIGNATURE}`), okVerdict, 'empty entries do not count');
  assert.equal(v1Signatures(Array.from({ length: 1000 }, () => SW_SIGNATURE).join(' ')).length, MAX_SIGNATURE_ENTRIES);
});

test('empty and malformed v1 signatures never match (the CVE-2024-21491 class)', () => {
  const k = keys(SW_SECRET);
  const reason = (signature: string): unknown => {
    const v = verifyStandard(swHeaders({ 'webhook-signature': signature }), SW_BODY, k, AT_VECTOR);
    return v.ok ? 'ok' : v.reason;
  };
  const cases: Record<string, string> = {
    'v1, empty': 'v1,',
    'v1 alone': 'v1',
    'only a comma': ',',
    empty: '',
    'truncated': SW_SIGNATURE.slice(0, 20),
    'one byte short': `v1,${Buffer.from(SW_GOOD, 'base64').subarray(0, 31).toString('base64')}`,
    'one byte long': `v1,${Buffer.concat([Buffer.from(SW_GOOD, 'base64'), Buffer.from([0])]).toString('base64')}`,
    'no padding': SW_SIGNATURE.replace(/=$/, ''),
    'URL-safe alphabet': SW_SIGNATURE.replace(/\+/g, '-').replace(/\//g, '_'),
    'whitespace inside': `${SW_SIGNATURE.slice(0, 20)}\t${SW_SIGNATURE.slice(20)}`,
    'non-canonical last character': SW_SIGNATURE.replace('1OE=', '1OF='),
    'hex instead of base64': `v1,${Buffer.from(SW_GOOD, 'base64').toString('hex')}`,
    'two commas': `v1,,${SW_GOOD}`,
    'non-ASCII': `v1,${SW_GOOD.slice(0, 40)}é€=`,
  };
  for (const [name, signature] of Object.entries(cases)) {
    const got = reason(signature);
    assert.ok(got === 'malformed' || got === 'mismatch', `${name}: ${String(got)}`);
  }
  // An empty entry beside the good one does not stop the good one.
  assert.equal(reason(`v1, ${SW_SIGNATURE}`), 'ok');
});

test('webhook-timestamp: 1–12 ASCII digits; webhook-id: 1–256 printable ASCII without "."', () => {
  const k = keys(SW_SECRET);
  const verdict = (overrides: Record<string, string>): string => {
    const v = verifyStandard(swHeaders(overrides), SW_BODY, k, AT_VECTOR);
    return v.ok ? 'ok' : v.reason;
  };
  for (const ts of ['1614265330000', '+1614265330', '-1614265330', '1614265330.0', '1.6e9', '', '0x60364B72', '١٦١٤٢٦٥٣٣٠', '1614265330 ', '9'.repeat(13)]) {
    assert.equal(verdict({ 'webhook-timestamp': ts }), 'malformed', JSON.stringify(ts));
  }
  // 12 digits pass the grammar (then the signature and the window decide).
  assert.equal(verdict({ 'webhook-timestamp': '999999999999' }), 'mismatch');
  for (const id of ['', 'msg.1', 'x'.repeat(257), 'é', 'tab\tinside', 'nul\u0000', 'del\u007f']) {
    assert.equal(verdict({ 'webhook-id': id }), 'malformed', JSON.stringify(id));
    assert.equal(verifyStandard(swHeaders({ 'webhook-id': id }), SW_BODY, k, AT_VECTOR).deliveryId, undefined, 'an id that breaks the rule is not logged');
  }
  const id256 = 'i'.repeat(256);
  const signed = standardSignature(SW_SECRET, id256, SW_TS, SW_BODY);
  assert.equal(verdict({ 'webhook-id': id256, 'webhook-signature': signed }), 'ok');
  const spaced = 'msg with spaces_and-symbols!~';
  assert.equal(verdict({ 'webhook-id': spaced, 'webhook-signature': standardSignature(SW_SECRET, spaced, SW_TS, SW_BODY) }), 'ok');
});

test('repeated headers (as lists) and missing parts are refused, never thrown', () => {
  const k = keys(SW_SECRET);
  assert.deepEqual(verifyStandard(swHeaders({ 'webhook-signature': [SW_SIGNATURE, SW_SIGNATURE] }), SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'malformed', deliveryId: SW_ID });
  assert.deepEqual(verifyStandard(swHeaders({ 'webhook-id': [SW_ID] }), SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'malformed' });
  assert.deepEqual(verifyStandard(swHeaders({ 'webhook-timestamp': undefined }), SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'missing' });
  assert.deepEqual(verifyStandard({}, SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'standard', reason: 'missing' });
  assert.deepEqual(verifyXSignature({ 'x-signature': ['a', 'b'] }, SW_BODY, k, AT_VECTOR), { ok: false, scheme: 'x_signature', reason: 'malformed' });
  assert.deepEqual(verifyHub({ 'x-hub-signature-256': [GH_SIGNATURE] }, GH_BODY, keys(GH_SECRET), AT_VECTOR), { ok: false, scheme: 'hub', reason: 'malformed' });
  // node:http joins a repeated header with ", ": never a valid value.
  assert.equal(verifyHub({ 'x-hub-signature-256': `${GH_SIGNATURE}, ${GH_SIGNATURE}` }, GH_BODY, keys(GH_SECRET), AT_VECTOR).ok, false);
});

test('X-Hub-Signature-256 must be sha256= and 64 hex characters', () => {
  const k = keys(GH_SECRET);
  const hex = GH_SIGNATURE.slice(7);
  for (const value of ['', 'sha256=', hex, `sha1=${hex.slice(0, 40)}`, `SHA256=${hex}`, `sha256= ${hex}`, `sha256=${hex}0`, `sha256=${hex.slice(0, 63)}`, `sha256=${hex.slice(0, 62)}zz`, `sha256=${Buffer.from(hex, 'hex').toString('base64')}`, `sha256=${hex.slice(0, 60)}é€`]) {
    const v = verifyHub({ 'x-hub-signature-256': value }, GH_BODY, k, at(0));
    assert.deepEqual(v, { ok: false, scheme: 'hub', reason: 'malformed' }, JSON.stringify(value));
  }
  assert.deepEqual(verifyHub({ 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, GH_BODY, k, at(0)), { ok: false, scheme: 'hub', reason: 'mismatch' });
  assert.deepEqual(verifyHub({ 'x-hub-signature-256': GH_SIGNATURE }, Buffer.from('Hello, World! '), k, at(0)), { ok: false, scheme: 'hub', reason: 'mismatch' });
});

test('10,000 random header values for every scheme: never a throw, never verified', () => {
  const rng = createRandom(20240914);
  const k = keys(SW_SECRET, 'previous');
  const pieces = ['v1,', 'v1', ',', ' ', '=', 'sha256=', SW_GOOD, SW_SIGNATURE, GH_SIGNATURE, '\u00e9', '\u20ac', '\u0000', '\t', '+', '-', '/', '_', '.', '9', 'a', 'A', '1614265330'];
  const randomValue = (): string => {
    if (rng.chance(0.02)) return 'v1,'.repeat(rng.int(1, 6000));
    if (rng.chance(0.02)) return String.fromCharCode(...Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255)));
    return Array.from({ length: rng.int(0, 12) }, () => rng.pick(pieces)).join('');
  };
  const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'svix-id', 'svix-timestamp', 'svix-signature', 'x-signature', 'x-hub-signature-256'];
  for (let i = 0; i < 10_000; i += 1) {
    const headers: Record<string, string | string[]> = {};
    for (const name of names) {
      if (rng.chance(0.4)) headers[name] = rng.chance(0.05) ? [randomValue(), randomValue()] : randomValue();
    }
    const verdict = verifyDelivery(headers, SW_BODY, k, at(rng.int(0, 2 ** 33), rng.int(1, 3600)));
    assert.equal(verdict.ok, false, JSON.stringify(headers));
  }
});

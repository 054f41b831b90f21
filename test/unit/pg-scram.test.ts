// SCRAM-SHA-256 against the RFC 7677 test vector, the checks a client must make on what the
// server sends, and SASLprep as PostgreSQL applies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { MAX_ITERATIONS, clientFinal, clientFirst, verifyServerFinal } from '../../src/storage/postgres/scram.ts';
import { saslprep } from '../../src/storage/postgres/saslprep.ts';

// https://www.rfc-editor.org/rfc/rfc7677#section-3
const RFC = {
  user: 'user',
  password: 'pencil',
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

test('RFC 7677 test vector: client-first, client-final with the proof, and the server signature', async () => {
  const first = clientFirst(RFC.user, RFC.nonce);
  assert.equal(first.message, RFC.clientFirst);
  const final = await clientFinal(RFC.password, first, RFC.serverFirst);
  assert.ok(final.ok);
  assert.equal(final.value.message, RFC.clientFinal);
  assert.deepEqual(verifyServerFinal(RFC.serverFinal, final.value.serverSignature), { ok: true, value: true });
});

test('the server signature is checked: a wrong one, an error, or none is refused', async () => {
  const final = await clientFinal(RFC.password, clientFirst(RFC.user, RFC.nonce), RFC.serverFirst);
  assert.ok(final.ok);
  const sig = final.value.serverSignature;
  const wrong = Buffer.from(sig);
  wrong[0] = (wrong[0] ?? 0) ^ 1;
  for (const bad of [`v=${wrong.toString('base64')}`, 'v=', 'e=invalid-proof', 'x=1', 'garbage', 'v=AAAA', `v=${sig.toString('base64')}!`]) {
    assert.equal(verifyServerFinal(bad, sig).ok, false, bad);
  }
});

test('the server-first-message is checked: nonce, salt, iterations, reserved extension', async () => {
  const first = clientFirst('', 'abcdefgh');
  const cases = [
    'r=zzzzzzzzzz,s=QUJD,i=4096', // does not extend our nonce (a replay from another exchange)
    'r=abcdefgh,s=QUJD,i=4096', // adds nothing of the server's own
    'r=abcdefgh12,s=,i=4096',
    'r=abcdefgh12,s=***,i=4096',
    'r=abcdefgh12,s=QUJD,i=0',
    'r=abcdefgh12,s=QUJD,i=-1',
    'r=abcdefgh12,s=QUJD,i=4k',
    `r=abcdefgh12,s=QUJD,i=${MAX_ITERATIONS + 1}`,
    'm=ext,r=abcdefgh12,s=QUJD,i=4096',
    'r=abcdefgh12,s=QUJD',
    's=QUJD,i=4096',
    'nonsense',
  ];
  for (const serverFirst of cases) assert.equal((await clientFinal('pw', first, serverFirst)).ok, false, serverFirst);
  assert.equal((await clientFinal('pw', first, 'r=abcdefgh12,s=QUJD,i=1')).ok, true);
});

test('the proof follows RFC 5802 step by step (an independent computation)', async () => {
  const first = clientFirst('', 'nonce1');
  const serverFirst = 'r=nonce1server,s=c2FsdA==,i=10';
  const final = await clientFinal('secret', first, serverFirst);
  assert.ok(final.ok);
  const salted = pbkdf2Sync('secret', Buffer.from('salt'), 10, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const stored = createHash('sha256').update(clientKey).digest();
  const auth = `n=,r=nonce1,${serverFirst},c=biws,r=nonce1server`;
  const signature = createHmac('sha256', stored).update(auth).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] ?? 0)));
  assert.equal(final.value.message, `c=biws,r=nonce1server,p=${proof.toString('base64')}`);
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  assert.deepEqual(final.value.serverSignature, createHmac('sha256', serverKey).update(auth).digest());
});

test('user names are escaped as RFC 5802 saslname; nonces are fresh and printable', () => {
  assert.equal(clientFirst('a=b,c', 'n').bare, 'n=a=3Db=2Cc,r=n');
  const a = clientFirst().nonce;
  const b = clientFirst().nonce;
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9+/=]{24}$/);
});

test('SASLprep as PostgreSQL does it: ASCII untouched, spaces mapped, soft hyphens dropped, NFKC, raw when prohibited', () => {
  assert.equal(saslprep('plain ascii\t!'), 'plain ascii\t!');
  assert.equal(saslprep('a\u00a0b\u2003c'), 'a b c');
  assert.equal(saslprep('pass\u00adword\u200d'), 'password');
  assert.equal(saslprep('\u2168'), 'IX');
  assert.equal(saslprep('e\u0301'), '\u00e9');
  assert.equal(saslprep('\ufb01x'), 'fix');
  // Prohibited after mapping (private use, a control, a lone surrogate): PostgreSQL uses the raw bytes.
  assert.equal(saslprep('x\ue000'), 'x\ue000');
  assert.equal(saslprep('ü\u0085'), 'ü\u0085');
  assert.equal(saslprep('ü\ud800'), 'ü\ud800');
  assert.equal(saslprep('\u00ad'), '\u00ad', 'mapped to nothing at all: raw');
});

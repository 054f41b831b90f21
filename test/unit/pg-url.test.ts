// postgres:// URL parsing: every part, percent-decoding, IPv6, defaults, and every problem named
// without repeating the URL (which carries a password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { isPostgresUrl, parsePostgresUrl, type PgConnectionConfig } from '../../src/storage/postgres/url.ts';

function parsed(url: string, defaults = {}): PgConnectionConfig {
  const result = parsePostgresUrl(url, defaults);
  assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
  return result.config;
}

function problems(url: string, defaults = {}): string[] {
  const result = parsePostgresUrl(url, defaults);
  assert.equal(result.ok, false, url);
  return result.ok ? [] : result.problems;
}

test('a full URL: user, percent-decoded password, host, port, database, sslmode', () => {
  const c = parsed('postgres://app:p%40ss%3Aw%2Frd%20%C3%BC@db.example.com:6543/webhooks?sslmode=verify-full');
  assert.equal(c.user, 'app');
  assert.equal(c.password?.reveal(), 'p@ss:w/rd ü');
  assert.deepEqual([c.host, c.port, c.database, c.sslmode, c.sslRootCert], ['db.example.com', 6543, 'webhooks', 'verify-full', null]);
  assert.equal(c.connectTimeoutMs, 10_000);
  assert.equal(c.applicationName, 'webhook-api');
  assert.ok(Object.isFrozen(c));
});

test('postgresql:// too, any case; defaults: port 5432, database = user, sslmode prefer, no password', () => {
  const c = parsed('PostgreSQL://alice@localhost');
  assert.deepEqual([c.user, c.password, c.host, c.port, c.database, c.sslmode], ['alice', null, 'localhost', 5432, 'alice', 'prefer']);
  assert.equal(parsed('postgres://alice:@h/').password, null, 'an empty password is no password');
  assert.equal(parsed('postgres://alice@h/').database, 'alice');
});

test('IPv6 hosts in brackets, with and without a port; IPv4', () => {
  assert.deepEqual([parsed('postgres://u@[::1]:5433/d').host, parsed('postgres://u@[::1]:5433/d').port], ['::1', 5433]);
  assert.equal(parsed('postgres://u@[2001:db8::7]/d').host, '2001:db8::7');
  assert.equal(parsed('postgres://u@127.0.0.1/d').host, '127.0.0.1');
  assert.ok(problems('postgres://u@::1/d').some((p) => /brackets/.test(p)));
  assert.ok(problems('postgres://u@[::1/d').some((p) => /IPv6/.test(p)));
  assert.ok(problems('postgres://u@[not-v6]/d').some((p) => /IPv6/.test(p)));
  assert.ok(problems('postgres://u@[::1]x/d').some((p) => /after the IPv6/.test(p)));
});

test('an unencoded "@" in the password still parses (the last "@" ends the user info)', () => {
  const c = parsed('postgres://u:a@b@host/d');
  assert.deepEqual([c.password?.reveal(), c.host], ['a@b', 'host']);
});

test('query parameters: sslmode values, sslrootcert (URL wins over PGSSLROOTCERT), connect_timeout, application_name', () => {
  for (const mode of ['disable', 'prefer', 'require', 'verify-full'] as const) assert.equal(parsed(`postgres://u@h/d?sslmode=${mode}`).sslmode, mode);
  assert.equal(parsed('postgres://u@h/d?sslmode=verify-full', { sslRootCert: '/env/ca.pem' }).sslRootCert, '/env/ca.pem');
  assert.equal(parsed('postgres://u@h/d?sslmode=verify-full&sslrootcert=%2Furl%2Fca.pem', { sslRootCert: '/env/ca.pem' }).sslRootCert, '/url/ca.pem');
  assert.equal(parsed('postgres://u@h/d?connect_timeout=3').connectTimeoutMs, 3000);
  assert.equal(parsed('postgres://u@h/d?application_name=replica%201').applicationName, 'replica 1');
  assert.equal(parsed('postgres://u@h/d', { applicationName: 'x' }).applicationName, 'x');
  assert.equal(parsed('postgres://u@h/d?').sslmode, 'prefer');
});

test('bad parameters are problems, one each, naming the parameter but never a value', () => {
  const cases: [string, RegExp][] = [
    ['postgres://u@h/d?sslmode=allow', /sslmode must be one of disable, prefer, require, verify-full/],
    ['postgres://u@h/d?sslmode=verify-ca', /sslmode must be one of/],
    ['postgres://u@h/d?password=hunter2', /unknown parameter "password"/],
    ['postgres://u@h/d?sslmode=require&sslmode=disable', /given twice/],
    ['postgres://u@h/d?sslmode', /needs a value/],
    ['postgres://u@h/d?connect_timeout=0', /connect_timeout/],
    ['postgres://u@h/d?connect_timeout=1.5', /connect_timeout/],
    ['postgres://u@h/d?sslrootcert=/ca.pem', /only used with sslmode=verify-full/],
    ['postgres://u@h/d?b%ad=1', /malformed/],
    [`postgres://u@h/d?application_name=${'x'.repeat(64)}`, /63 bytes/],
  ];
  for (const [url, expected] of cases) {
    const found = problems(url);
    assert.equal(found.length, 1, `${url}: ${found.join('; ')}`);
    assert.match(found[0] ?? '', expected);
    assert.doesNotMatch(found[0] ?? '', /hunter2|allow|verify-ca|\/ca\.pem/);
  }
  assert.equal(problems('postgres://u@h/d', { sslRootCert: '/x.pem' }).length, 1, 'PGSSLROOTCERT without verify-full');
});

test('bad authority parts: no user, no host, bad port, several hosts, a socket path, bad escapes', () => {
  const cases: [string, RegExp][] = [
    ['postgres://h/d', /names no user/],
    ['postgres://@h/d', /names no user/],
    ['postgres://:pw@h/d', /names no user/],
    ['postgres://u@/d', /names no host/],
    ['postgres://u@h:0/d', /port/],
    ['postgres://u@h:65536/d', /port/],
    ['postgres://u@h:54x/d', /port/],
    ['postgres://u@h1,h2/d', /only one host/],
    ['postgres://u@%2Fvar%2Frun/d', /Unix-domain/],
    ['postgres://u%ZZ@h/d', /user name has a malformed/],
    ['postgres://u:p%ZZ@h/d', /password has a malformed/],
    ['postgres://u@h/d%ZZ', /database name has a malformed/],
    ['postgres://u@h/d#frag', /fragment/],
    ['postgres://u@h_!/d', /host name has characters/],
    ['postgres://u:p%00@h/d', /NUL/],
    ['postgres://u@h/d\tx', /control characters/],
    ['mysql://u@h/d', /must start with postgres/],
  ];
  for (const [url, expected] of cases) assert.ok(problems(url).some((p) => expected.test(p)), `${url}: ${problems(url).join('; ')}`);
});

test('several problems are all reported at once', () => {
  assert.ok(problems('postgres://@:0/d?sslmode=x&y=1').length >= 4);
});

test('the password never shows: not in problems, inspect, JSON, String, or template strings', () => {
  const secret = 's3cr3t-pa55';
  const c = parsed(`postgres://u:${secret}@h/d`);
  const shown = [inspect(c), inspect(c, { showHidden: true, depth: 10 }), JSON.stringify(c), String(c.password), `${c.password}`];
  for (const text of shown) assert.doesNotMatch(text, /s3cr3t/);
  assert.equal(c.password?.reveal(), secret);
  for (const bad of [`postgres://u:${secret}@h:99999/d`, `postgres://u:${secret}@/d?what=1`]) {
    assert.doesNotMatch(problems(bad).join(' '), /s3cr3t/);
  }
});

test('isPostgresUrl tells a PostgreSQL URL from a SQLite one', () => {
  assert.equal(isPostgresUrl('postgres://u@h/d'), true);
  assert.equal(isPostgresUrl('POSTGRESQL://u@h/d'), true);
  assert.equal(isPostgresUrl('sqlite:///data/app.db'), false);
  assert.equal(isPostgresUrl('./data/app.db'), false);
});

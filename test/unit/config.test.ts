import { test } from 'node:test';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_VARIABLES, listenAddress, loadConfig, MAX_VALUE_FILE_BYTES, parseDatabaseUrl, DEFAULT_DATABASE_URL } from '../../src/config.ts';
import type { Config, Env } from '../../src/config.ts';

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

test('defaults when nothing is set', () => {
  const config = ok({});
  assert.equal(config.webhookSecret, null);
  assert.equal(config.databasePath, './data/app.db');
  assert.equal(config.port, 8000);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.maxBodyBytes, 262144);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.shutdownGraceSeconds, 8, 'SPEC.md: 8 s, so the whole stop fits inside Docker\'s default 10 s');
  assert.equal(DEFAULT_DATABASE_URL, 'sqlite:///./data/app.db');
});

test('every variable is read', () => {
  const config = ok({
    WEBHOOK_SECRET: 'testsecret',
    DATABASE_URL: 'sqlite:////data/app.db',
    LOG_LEVEL: 'DEBUG',
    PORT: '9000',
    HOST: '127.0.0.1',
    MAX_BODY_BYTES: '1024',
    SHUTDOWN_GRACE_SECONDS: '30',
  });
  assert.deepEqual(config.webhookSecret?.export(), Buffer.from('testsecret', 'utf8'));
  assert.equal(config.databasePath, '/data/app.db');
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.port, 9000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.maxBodyBytes, 1024);
  assert.equal(config.shutdownGraceSeconds, 30);
});

test('the secret is its UTF-8 bytes', () => {
  const config = ok({ WEBHOOK_SECRET: 'clé✓' });
  assert.deepEqual(config.webhookSecret?.export(), Buffer.from([0x63, 0x6c, 0xc3, 0xa9, 0xe2, 0x9c, 0x93]));
});

test('an unset or empty secret is null', () => {
  assert.equal(ok({}).webhookSecret, null);
  assert.equal(ok({ WEBHOOK_SECRET: '' }).webhookSecret, null);
  assert.equal(ok({ WEBHOOK_SECRET: undefined }).webhookSecret, null);
});

test('DATABASE_URL forms', async (t) => {
  const cases: [string, string][] = [
    ['sqlite:////abs/path.db', '/abs/path.db'],
    ['sqlite:////data/app.db', '/data/app.db'],
    ['sqlite:///rel/path.db', 'rel/path.db'],
    ['sqlite:///./data/app.db', './data/app.db'],
    ['sqlite:///:memory:', ':memory:'],
    ['/var/lib/app.db', '/var/lib/app.db'],
    ['./local.db', './local.db'],
    ['plain.db', 'plain.db'],
  ];
  for (const [url, path] of cases) {
    await t.test(url, () => {
      assert.equal(ok({ DATABASE_URL: url }).databasePath, path);
      assert.deepEqual(parseDatabaseUrl(url), { ok: true, value: path });
    });
  }
});

test('an empty DATABASE_URL falls back to the default', () => {
  assert.equal(ok({ DATABASE_URL: '' }).databasePath, './data/app.db');
});

test('other schemes are rejected without echoing credentials', async (t) => {
  for (const url of ['mysql://admin:hunter2@db.internal:3306/app', 'mongodb://u:s3cr3tpass@h/db', 'postgre://user:pw@h/db']) {
    await t.test(url, () => {
      const list = problems({ DATABASE_URL: url });
      assert.equal(list.length, 1);
      const text = list[0] ?? '';
      assert.match(text, /^DATABASE_URL/);
      for (const leak of ['pw@', ':pw', 'hunter2', 's3cr3tpass', 'user:', 'admin', '@h/', 'db.internal']) {
        assert.equal(text.includes(leak), false, `problem text leaks ${JSON.stringify(leak)}: ${text}`);
      }
    });
  }
});

test('postgres:// and postgresql:// URLs choose PostgreSQL, with sslmode, PGSSLROOTCERT and PG_POOL_SIZE', () => {
  const config = ok({ DATABASE_URL: 'postgres://app:s3cr%40t@db.internal:6432/webhooks?sslmode=require' });
  assert.equal(config.database.kind, 'postgres');
  assert.equal(config.databasePath, '', 'no SQLite file');
  if (config.database.kind !== 'postgres') return;
  const { connection, poolSize } = config.database;
  assert.deepEqual([connection.host, connection.port, connection.user, connection.database, connection.sslmode, poolSize], ['db.internal', 6432, 'app', 'webhooks', 'require', 4]);
  assert.equal(connection.password?.reveal(), 's3cr@t');
  const other = ok({ DATABASE_URL: 'postgresql://app:pw@10.0.0.5/webhooks?sslmode=verify-full', PGSSLROOTCERT: '/etc/ssl/rds.pem', PG_POOL_SIZE: '16' });
  assert.ok(other.database.kind === 'postgres');
  assert.deepEqual([other.database.connection.sslmode, other.database.connection.sslRootCert, other.database.poolSize], ['verify-full', '/etc/ssl/rds.pem', 16]);
  assert.equal(ok({ DATABASE_URL: 'postgres://app:pw@h/db', PG_POOL_SIZE: '1' }).database.kind, 'postgres');
  assert.deepEqual(ok({}).database, { kind: 'sqlite', path: './data/app.db' });
});

test('PG_POOL_SIZE must be 1 to 100', async (t) => {
  for (const raw of ['0', '101', 'four', '-1', '2.5']) {
    await t.test(raw, () => assert.deepEqual(problems({ DATABASE_URL: 'postgres://app:pw@h/db', PG_POOL_SIZE: raw }), ['PG_POOL_SIZE: must be a whole number from 1 to 100']));
  }
  assert.equal(ok({ DATABASE_URL: 'postgres://app:pw@h/db', PG_POOL_SIZE: '100' }).database.kind, 'postgres');
});

test('a bad PostgreSQL URL: one line per problem, none repeating the password, user or host', () => {
  const list = problems({ DATABASE_URL: 'postgres://admin:hunter2@db.internal:99999/app?sslmode=sometimes&colour=blue' });
  assert.ok(list.length >= 3, list.join(' | '));
  for (const text of list) {
    assert.match(text, /^DATABASE_URL: /);
    for (const leak of ['hunter2', 'admin', 'db.internal', 'sometimes', 'blue']) assert.equal(text.includes(leak), false, `${text} leaks ${leak}`);
  }
});

test('printing a PostgreSQL config never shows the password', () => {
  const config = ok({ DATABASE_URL: 'postgres://app:hunter2-db-pw@h/db' });
  assert.doesNotMatch(inspect(config, { depth: 8 }), /hunter2/);
  assert.doesNotMatch(JSON.stringify(config), /hunter2/);
  assert.doesNotMatch(String(config.database.kind === 'postgres' ? config.database.connection.password : ''), /hunter2/);
});

test('sqlite URLs with too few slashes are rejected', () => {
  const list = problems({ DATABASE_URL: 'sqlite://app.db' });
  assert.equal(list.length, 1);
  assert.match(list[0] ?? '', /^DATABASE_URL/);
});

test('LOG_LEVEL is accepted in any case, WARNING and WARN both mean warn', async (t) => {
  const cases: [string, string][] = [
    ['DEBUG', 'debug'],
    ['debug', 'debug'],
    ['INFO', 'info'],
    ['Info', 'info'],
    ['WARNING', 'warn'],
    ['warning', 'warn'],
    ['WARN', 'warn'],
    ['warn', 'warn'],
    ['wArN', 'warn'],
    ['ERROR', 'error'],
    ['error', 'error'],
  ];
  for (const [raw, level] of cases) {
    await t.test(raw, () => assert.equal(ok({ LOG_LEVEL: raw }).logLevel, level));
  }
});

test('an unknown LOG_LEVEL is a problem', () => {
  const list = problems({ LOG_LEVEL: 'verbose' });
  assert.equal(list.length, 1);
  assert.match(list[0] ?? '', /^LOG_LEVEL/);
});

test('bad PORT values are problems', async (t) => {
  for (const raw of ['abc', '-1', '65536', '80.5', '1e3', '0x50', '80abc']) {
    await t.test(JSON.stringify(raw), () => {
      const list = problems({ PORT: raw });
      assert.equal(list.length, 1);
      assert.match(list[0] ?? '', /^PORT/);
    });
  }
});

test('PORT boundaries', () => {
  assert.equal(ok({ PORT: '65535' }).port, 65535);
  assert.equal(ok({ PORT: '1' }).port, 1);
});

test('bad MAX_BODY_BYTES values are problems', async (t) => {
  for (const raw of ['abc', '-5', '0', '1.5', '1kb']) {
    await t.test(JSON.stringify(raw), () => {
      const list = problems({ MAX_BODY_BYTES: raw });
      assert.equal(list.length, 1);
      assert.match(list[0] ?? '', /^MAX_BODY_BYTES/);
    });
  }
});

test('SHUTDOWN_GRACE_SECONDS is a whole number of seconds from 1 to 600', async (t) => {
  assert.equal(ok({ SHUTDOWN_GRACE_SECONDS: '1' }).shutdownGraceSeconds, 1);
  assert.equal(ok({ SHUTDOWN_GRACE_SECONDS: '600' }).shutdownGraceSeconds, 600);
  assert.equal(ok({ SHUTDOWN_GRACE_SECONDS: ' 12 ' }).shutdownGraceSeconds, 12);
  assert.equal(ok({ SHUTDOWN_GRACE_SECONDS: '' }).shutdownGraceSeconds, 8);
  for (const raw of ['0', '601', '-1', '2.5', '10s', 'abc', '1e2']) {
    await t.test(JSON.stringify(raw), () => {
      assert.deepEqual(problems({ SHUTDOWN_GRACE_SECONDS: raw }), ['SHUTDOWN_GRACE_SECONDS: must be a whole number from 1 to 600']);
    });
  }
});

test('every problem is reported at once', () => {
  const list = problems({
    DATABASE_URL: 'mysql://user:pw@h/db',
    LOG_LEVEL: 'loud',
    PORT: 'http',
    MAX_BODY_BYTES: 'lots',
  });
  assert.equal(list.length, 4);
  assert.deepEqual(
    list.map((p) => p.split(':')[0]).sort(),
    ['DATABASE_URL', 'LOG_LEVEL', 'MAX_BODY_BYTES', 'PORT'],
  );
});

test('problems never contain the secret', () => {
  const list = problems({ WEBHOOK_SECRET: 'topsecretvalue', PORT: 'nope', DATABASE_URL: 'redis://x:topsecretvalue@h' });
  assert.equal(list.length, 2);
  for (const p of list) assert.equal(p.includes('topsecretvalue'), false, p);
});

test('the config is frozen', () => {
  const config = ok({ PORT: '1234' });
  assert.equal(Object.isFrozen(config), true);
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
  assert.equal(config.port, 1234);
});

test('loadConfig does not read process.env', () => {
  const saved = process.env['PORT'];
  process.env['PORT'] = '4321';
  try {
    assert.equal(ok({}).port, 8000);
  } finally {
    if (saved === undefined) delete process.env['PORT'];
    else process.env['PORT'] = saved;
  }
});

test('printing the config never shows the secret', () => {
  const config = ok({ WEBHOOK_SECRET: 'hunter2-very-secret' });
  assert.doesNotMatch(inspect(config, { depth: 5 }), /hunter2/);
  assert.doesNotMatch(JSON.stringify(config), /hunter2/);
});

// NAME_FILE: the value of NAME read from a mounted secret file (FILE_VARIABLES).
function secretFile(t: { after(fn: () => void): void }, content: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'value');
  writeFileSync(path, content);
  return path;
}

test('WEBHOOK_SECRET_FILE and DATABASE_URL_FILE: the value comes from the file, without trailing line breaks', (t) => {
  assert.deepEqual(FILE_VARIABLES, ['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'READ_TOKEN', 'DATABASE_URL']);
  const config = ok({ WEBHOOK_SECRET_FILE: secretFile(t, 'from-a-file\n'), DATABASE_URL_FILE: secretFile(t, 'sqlite:////data/from-file.db\r\n\r\n') });
  assert.deepEqual(config.webhookSecret?.export(), Buffer.from('from-a-file', 'utf8'));
  assert.equal(config.databasePath, '/data/from-file.db');
  // Only trailing line breaks go: inner and surrounding spaces are part of a secret.
  assert.deepEqual(ok({ WEBHOOK_SECRET_FILE: secretFile(t, ' two\nlines \n') }).webhookSecret?.export(), Buffer.from(' two\nlines ', 'utf8'));
  assert.deepEqual(ok({ WEBHOOK_SECRET_FILE: secretFile(t, 'clé✓') }).webhookSecret?.export(), Buffer.from('clé✓', 'utf8'));
});

test('the senders\' secrets have NAME_FILE forms too, checked like their variables', (t) => {
  const config = ok({
    WEBHOOK_SECRET: 'current',
    WEBHOOK_SECRET_PREVIOUS_FILE: secretFile(t, 'old-1 old-2\n'),
    WHATSAPP_APP_SECRET_FILE: secretFile(t, 'meta-app-secret\n'),
    WHATSAPP_VERIFY_TOKEN_FILE: secretFile(t, 'verify-me\n'),
  });
  assert.deepEqual(config.webhookKeys.map((k) => k.name), ['current', 'previous_1', 'previous_2']);
  assert.deepEqual(config.whatsappAppSecret?.export(), Buffer.from('meta-app-secret', 'utf8'));
  assert.ok(config.whatsappVerifyTokenDigest !== null);
  const list = problems({ WEBHOOK_SECRET: 'current', WEBHOOK_SECRET_PREVIOUS_FILE: secretFile(t, 'a b c d e f\n') });
  assert.equal(list.length, 1);
  assert.match(list[0] ?? '', /^WEBHOOK_SECRET_PREVIOUS: at most 5/);
});

test('a NAME_FILE value goes through the same checks as NAME itself', (t) => {
  assert.equal(ok({ WEBHOOK_SECRET_FILE: secretFile(t, '\n') }).webhookSecret, null, 'an empty file is an unset secret');
  assert.equal(ok({ DATABASE_URL_FILE: secretFile(t, '') }).databasePath, './data/app.db', 'an empty file is the default URL');
  const list = problems({ DATABASE_URL_FILE: secretFile(t, 'postgres://user:filepw@h/db?sslmode=never\n') });
  assert.equal(list.length, 1);
  assert.match(list[0] ?? '', /^DATABASE_URL: sslmode must be one of/);
  assert.ok(!(list[0] ?? '').includes('filepw'));
  const fromFile = ok({ DATABASE_URL_FILE: secretFile(t, 'postgres://user:filepw@h/db\n') });
  assert.equal(fromFile.database.kind === 'postgres' && fromFile.database.connection.password?.reveal(), 'filepw', 'the URL, password included, may come from a secret file');
  assert.equal(ok({ WEBHOOK_SECRET_FILE: '' }).webhookSecret, null, 'an empty NAME_FILE is unset');
});

test('NAME_FILE problems: both forms set, missing, a folder, too large, not UTF-8; never the path or the content', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'config-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [Env, string][] = [
    [{ WEBHOOK_SECRET: 'inline-s3cret', WEBHOOK_SECRET_FILE: secretFile(t, 'file-s3cret') }, 'WEBHOOK_SECRET_FILE: WEBHOOK_SECRET is set too; set only one of them'],
    [{ WEBHOOK_SECRET_FILE: 'pasted-the-s3cret-here' }, 'WEBHOOK_SECRET_FILE: cannot read the file it names (ENOENT)'],
    [{ DATABASE_URL_FILE: dir }, 'DATABASE_URL_FILE: the path it names is not a regular file'],
    [{ WEBHOOK_SECRET_FILE: secretFile(t, 'x'.repeat(MAX_VALUE_FILE_BYTES + 1)) }, `WEBHOOK_SECRET_FILE: the file it names is larger than ${MAX_VALUE_FILE_BYTES} bytes`],
    [{ WEBHOOK_SECRET_FILE: secretFile(t, Buffer.from([0x73, 0xff, 0xfe])) }, 'WEBHOOK_SECRET_FILE: the file it names is not UTF-8 text'],
    [{ WEBHOOK_SECRET_FILE: '/dev/zero' }, 'WEBHOOK_SECRET_FILE: the path it names is not a regular file'],
  ];
  for (const [env, problem] of cases) {
    const list = problems(env);
    assert.deepEqual(list, [problem]);
    assert.doesNotMatch(list[0] ?? '', /s3cret|config-file-/);
  }
  assert.equal(ok({ WEBHOOK_SECRET_FILE: secretFile(t, 'x'.repeat(MAX_VALUE_FILE_BYTES)) }).webhookSecret?.export().length, MAX_VALUE_FILE_BYTES);
  // With other problems, all are reported at once.
  assert.equal(problems({ WEBHOOK_SECRET_FILE: join(dir, 'missing'), PORT: 'x', DATABASE_URL_FILE: join(dir, 'missing') }).length, 3);
});

test('each NAME_FILE is read once, through the reader passed in; nothing else is read from files', () => {
  const reads: string[] = [];
  const result = loadConfig({ WEBHOOK_SECRET_FILE: '/run/secrets/a', DATABASE_URL_FILE: '/run/secrets/b', PORT_FILE: '/run/secrets/c' }, (path) => {
    reads.push(path);
    return { ok: true, value: path.endsWith('a') ? 'injected' : ':memory:' };
  });
  assert.ok(result.ok);
  assert.deepEqual(reads, ['/run/secrets/a', '/run/secrets/b']);
  assert.deepEqual(result.config.webhookSecret?.export(), Buffer.from('injected'));
  assert.equal(result.config.databasePath, ':memory:');
});

test('listenAddress reads PORT and HOST only, as loadConfig parses them', () => {
  assert.deepEqual(listenAddress({}), { port: 8000, host: '0.0.0.0' });
  assert.deepEqual(listenAddress({ PORT: '9001', HOST: ' 127.0.0.1 ', WEBHOOK_SECRET_FILE: '/missing' }), { port: 9001, host: '127.0.0.1' });
  assert.deepEqual(listenAddress({ PORT: 'nope' }), { port: 8000, host: '0.0.0.0' });
});

test('READ_TOKEN: unset or empty means open reads; a bearer-token value is kept only as a digest', () => {
  assert.equal(ok({}).readToken, null);
  assert.equal(ok({ READ_TOKEN: '' }).readToken, null);
  assert.equal(ok({ READ_TOKEN: '   ' }).readToken, null);
  const config = ok({ READ_TOKEN: 'abc-DEF_123.~+/==' });
  assert.ok(config.readToken !== null);
  assert.ok(!inspect(config, { depth: 5 }).includes('abc-DEF_123'));
  assert.ok(!JSON.stringify(config).includes('abc-DEF_123'));
});

test('READ_TOKEN that no client could send as a bearer token is a problem, never echoed', () => {
  for (const bad of ['with space', ' leading', 'quote"', 'comma,', 'é', '=start', 'x'.repeat(4097)]) {
    const found = problems({ READ_TOKEN: bad });
    assert.equal(found.length, 1, bad);
    assert.match(found[0] ?? '', /^READ_TOKEN: /);
    if (bad.length > 3) assert.ok(!(found[0] ?? '').includes(bad.trim()));
  }
});

test('MAX_STREAMS: default 100, 0 to 10000', () => {
  assert.equal(ok({}).maxStreams, 100);
  assert.equal(ok({ MAX_STREAMS: '0' }).maxStreams, 0);
  assert.equal(ok({ MAX_STREAMS: '10000' }).maxStreams, 10_000);
  for (const bad of ['-1', '10001', 'many', '1.5']) assert.match(problems({ MAX_STREAMS: bad })[0] ?? '', /^MAX_STREAMS: must be a whole number from 0 to 10000$/);
});

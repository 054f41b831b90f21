import { test } from 'node:test';
import { inspect } from 'node:util';
import assert from 'node:assert/strict';
import { loadConfig, parseDatabaseUrl, DEFAULT_DATABASE_URL } from '../../src/config.ts';
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
  });
  assert.deepEqual(config.webhookSecret?.export(), Buffer.from('testsecret', 'utf8'));
  assert.equal(config.databasePath, '/data/app.db');
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.port, 9000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.maxBodyBytes, 1024);
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
  for (const url of ['postgres://user:pw@h/db', 'mysql://admin:hunter2@db.internal:3306/app', 'postgresql://u:s3cr3tpass@h/db']) {
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

test('the postgres password "pw" never appears in the problem', () => {
  const [text = ''] = problems({ DATABASE_URL: 'postgres://user:pw@h/db' });
  assert.equal(/\bpw\b/.test(text), false, text);
  assert.equal(text.includes('user'), false, text);
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

test('every problem is reported at once', () => {
  const list = problems({
    DATABASE_URL: 'postgres://user:pw@h/db',
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

// The client's connection against a scripted server on loopback that sends real recorded frames
// or broken ones: pipelines with an error in the middle, frames split at every byte, truncated,
// oversized and unknown frames, out-of-order messages, authentication a client must refuse, TLS
// negotiation gone wrong, a missing cancel key. Every case settles with a typed value; none hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, type ConnectionOptions, type OpenResult } from '../../src/storage/postgres/connection.ts';
import { PgError, type PgErrorKind } from '../../src/storage/postgres/errors.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/url.ts';
import { auth, frame, int32, REAL, startFakeServer, trustLogin, type ServerIO } from '../helpers/fake-pg.ts';
import { failed, ok } from '../helpers/pg-client.ts';

type Events = { closed: (PgError | null)[]; serverErrors: PgError[] };

async function against(t: { after(fn: () => unknown): void }, script: (io: ServerIO, index: number) => Promise<void>, query = 'sslmode=disable', extra: Partial<ConnectionOptions> = {}): Promise<{ opened: OpenResult; events: Events }> {
  const server = await startFakeServer(script);
  t.after(() => server.close());
  const parsed = parsePostgresUrl(`postgres://u:secret-pw@127.0.0.1:${server.port}/d?connect_timeout=2${query === '' ? '' : `&${query}`}`);
  assert.ok(parsed.ok);
  const events: Events = { closed: [], serverErrors: [] };
  const opened = await Connection.open(parsed.config, {
    keepAliveMs: 10_000,
    maxFrameBytes: 1 << 20,
    cancelGraceMs: 500,
    onClose: (_, e) => events.closed.push(e),
    onServerError: (e) => events.serverErrors.push(e),
    ...extra,
  });
  if (opened.ok) t.after(() => opened.connection.destroy(new PgError('closed', 'test over')));
  return { opened, events };
}

function connection(opened: OpenResult): Connection {
  assert.ok(opened.ok, opened.ok ? '' : `${opened.error.kind}: ${opened.error.message}`);
  return opened.connection;
}

function refused(opened: OpenResult, kind: PgErrorKind, message?: RegExp): PgError {
  assert.equal(opened.ok, false, 'the connection should have been refused');
  if (opened.ok) throw new Error('unreachable');
  assert.equal(opened.error.kind, kind, opened.error.message);
  if (message !== undefined) assert.match(opened.error.message, message);
  return opened.error;
}

test('an ErrorResponse in the middle of a pipeline fails only its own query; the ones after it succeed', async (t) => {
  const { opened } = await against(t, async (io) => {
    await trustLogin(io);
    await io.readUntilSync(3);
    io.write(Buffer.concat([REAL.selectOne, REAL.divisionByZero, REAL.selectOne]));
    await io.readUntilSync(1);
    io.write(REAL.selectOne);
  });
  const c = connection(opened);
  const [a, b, d] = await Promise.all([c.query('SELECT 1 AS a', []), c.query('SELECT 1/0', []), c.query('SELECT 1 AS a', [])]);
  assert.deepEqual(ok(a).rows, [{ a: 1 }]);
  assert.deepEqual([failed(b).sqlstate, failed(b).kind], ['22012', 'query']);
  assert.deepEqual(ok(d).rows, [{ a: 1 }]);
  assert.deepEqual(ok(await c.query('SELECT 1 AS a', [])).rows, [{ a: 1 }]);
});

test('answers split at every byte (startup included) give the same results', async (t) => {
  const { opened } = await against(t, async (io) => {
    await io.read();
    await io.writeByByte(Buffer.concat([auth(0), REAL.parameters, REAL.keyData, REAL.ready]));
    await io.readUntilSync(2);
    await io.writeByByte(Buffer.concat([REAL.selectOne, REAL.divisionByZero]));
  });
  const c = connection(opened);
  const [a, b] = await Promise.all([c.query('SELECT 1 AS a', []), c.query('SELECT 1/0', [])]);
  assert.deepEqual(ok(a).rows, [{ a: 1 }]);
  assert.equal(failed(b).sqlstate, '22012');
});

test('a frame cut short by a closed socket fails every query in flight as a lost connection', async (t) => {
  const { opened, events } = await against(t, async (io) => {
    await trustLogin(io);
    await io.readUntilSync(2);
    io.write(REAL.selectOne.subarray(0, REAL.selectOne.length - 3));
    io.socket.end();
  });
  const c = connection(opened);
  const results = await Promise.all([c.query('SELECT 1 AS a', []), c.query('SELECT 1 AS a', [])]);
  for (const r of results) assert.equal(failed(r).kind, 'connection');
  assert.equal(events.closed.length, 1);
  assert.equal(c.isReady, false);
  assert.equal(failed(await c.query('SELECT 1', [])).kind, 'connection', 'later queries fail at once');
});

// RowDescription for one int4 column "a", as recorded: ParseComplete, BindComplete, then T.
const headerOfSelectOne = REAL.selectOne.subarray(0, 5 + 5 + 27);
assert.equal(String.fromCharCode(REAL.selectOne[37] ?? 0), 'D');

const brokenAnswers: [string, Buffer, RegExp][] = [
  ['an oversized length field', Buffer.concat([Buffer.from('D'), int32(0x7ffffff0)]), /length of \d+ bytes is out of range/],
  ['a length under 4', Buffer.concat([Buffer.from('D'), int32(2), Buffer.alloc(8)]), /length of 2 bytes is out of range/],
  ['an unknown message type', frame('!', 'x'), /unknown message type 0x21/],
  ['a DataRow before RowDescription', Buffer.concat([frame('1'), frame('2'), frame('D', Buffer.from([0, 0]))]), /unexpected DataRow/],
  ['a DataRow with the wrong number of columns', Buffer.concat([headerOfSelectOne, frame('D', Buffer.from([0, 2, 0, 0, 0, 1, 0x31, 0xff, 0xff, 0xff, 0xff]))]), /DataRow of 2 columns for 1/],
  ['ReadyForQuery before CommandComplete', Buffer.concat([frame('1'), frame('2'), frame('n'), frame('Z', 'I')]), /ReadyForQuery before the query completed/],
  ['a CopyInResponse', Buffer.concat([frame('1'), frame('2'), frame('n'), frame('G', Buffer.from([0, 0, 0]))]), /COPY/],
  ['BindComplete twice', Buffer.concat([frame('1'), frame('2'), frame('2')]), /unexpected BindComplete/],
  ['an AuthenticationOk after startup', auth(0), /unexpected authentication/],
  ['a malformed ErrorResponse', frame('E', 'SERROR'), /message "E"/],
  ['an int8 column that is not a number', Buffer.concat([frame('1'), frame('2'), frame('T', Buffer.concat([Buffer.from([0, 1]), Buffer.from('n\0'), int32(0), Buffer.from([0, 0]), int32(20), Buffer.from([0, 8]), int32(-1), Buffer.from([0, 0])])), frame('D', Buffer.concat([Buffer.from([0, 1]), int32(3), Buffer.from('abc')]))]), /does not parse/],
];

for (const [what, bytes, reason] of brokenAnswers) {
  test(`${what} is a protocol error: the connection is dropped and every query in flight fails, typed`, async (t) => {
    const { opened, events } = await against(t, async (io) => {
      await trustLogin(io);
      await io.readUntilSync(2);
      io.write(bytes);
    });
    const c = connection(opened);
    const results = await Promise.all([c.query('SELECT 1 AS a', []), c.query('SELECT 1 AS a', [])]);
    for (const r of results) assert.equal(failed(r).kind, 'protocol');
    assert.equal(events.closed[0]?.kind, 'protocol');
    assert.match(events.closed[0]?.message ?? '', reason);
  });
}

test('a ReadyForQuery with nothing in flight is a protocol error', async (t) => {
  const { opened, events } = await against(t, async (io) => {
    await trustLogin(io);
    io.write(frame('Z', 'I'));
  });
  const c = connection(opened);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events.closed[0]?.kind, 'protocol');
  assert.equal(failed(await c.query('SELECT 1', [])).kind, 'connection');
});

test('a FATAL error while idle is reported, and the close after it fails the next query with that reason', async (t) => {
  const fatal = frame('E', 'SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0');
  const { opened, events } = await against(t, async (io) => {
    await trustLogin(io);
    io.write(fatal);
    io.socket.end();
  });
  const c = connection(opened);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events.serverErrors[0]?.sqlstate, '57P01');
  assert.equal(events.closed[0]?.sqlstate, '57P01');
  assert.equal(failed(await c.query('SELECT 1', [])).sqlstate, '57P01');
});

test('an ERROR then a FATAL for the same query (the server shut down meanwhile): the query fails with the FATAL reason', async (t) => {
  const { opened } = await against(t, async (io) => {
    await trustLogin(io);
    await io.readUntilSync(1);
    io.write(Buffer.concat([frame('1'), frame('E', 'SERROR\0VERROR\0C22012\0Mdivision by zero\0\0'), frame('E', 'SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0')]));
    io.socket.end();
  });
  const c = connection(opened);
  const e = failed(await c.query('SELECT 1/0', []));
  assert.deepEqual([e.kind, e.sqlstate], ['connection', '57P01']);
});

test('a timed-out query sends a CancelRequest with the backend key on its own connection, and the connection lives on', async (t) => {
  let cancel: Buffer | null = null;
  const { opened } = await against(t, async (io, index) => {
    if (index === 1) {
      cancel = (await io.read()).body;
      io.socket.end();
      return;
    }
    await trustLogin(io);
    await io.readUntilSync(1);
    // Answer only once the cancel has come, as a server does.
    while (cancel === null) await new Promise((r) => setTimeout(r, 5));
    io.write(Buffer.concat([frame('1'), frame('2'), frame('n'), frame('E', 'SERROR\0VERROR\0C57014\0Mcanceling statement due to user request\0\0'), frame('Z', 'I')]));
    await io.readUntilSync(1);
    io.write(REAL.selectOne);
  });
  const c = connection(opened);
  const slow = failed(await c.query('SELECT pg_sleep(10)', [], { timeoutMs: 50 }));
  assert.equal(slow.kind, 'timeout');
  assert.deepEqual(ok(await c.query('SELECT 1 AS a', [])).rows, [{ a: 1 }]);
  const expected = Buffer.concat([int32(80877102), REAL.keyData.subarray(5)]);
  assert.deepEqual(cancel, expected, 'code, pid and secret key as BackendKeyData gave them');
});

test('a server that sent no cancel key: a timed-out query costs its connection at once', async (t) => {
  const { opened, events } = await against(t, async (io) => {
    await trustLogin(io, { keyData: false });
    await io.readUntilSync(1);
  });
  const c = connection(opened);
  assert.equal(failed(await c.query('SELECT pg_sleep(10)', [], { timeoutMs: 50 })).kind, 'timeout');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(events.closed[0]?.kind, 'connection');
});

test('a server that accepts and never answers the startup: connection error after connect_timeout', async (t) => {
  const started = Date.now();
  const { opened } = await against(t, async (io) => void (await io.read()));
  refused(opened, 'connection', /startup timed out/);
  assert.ok(Date.now() - started < 4_000);
});

test('AuthenticationOk in the middle of SCRAM (no server proof) is refused', async (t) => {
  const { opened } = await against(t, async (io) => {
    await io.read();
    io.write(auth(10, 'SCRAM-SHA-256\0\0'));
    await io.read();
    io.write(Buffer.concat([auth(0), REAL.parameters, REAL.keyData, REAL.ready]));
  });
  refused(opened, 'auth', /without proving/);
});

test('a SCRAM server nonce that does not extend ours is refused before any proof is sent', async (t) => {
  let sentProof = false;
  const { opened } = await against(t, async (io) => {
    await io.read();
    io.write(auth(10, 'SCRAM-SHA-256\0\0'));
    await io.read();
    io.write(auth(11, 'r=someoneelsesnonce,s=QUJD,i=4096'));
    sentProof = (await io.read().catch(() => null)) !== null;
  });
  refused(opened, 'auth', /nonce/);
  assert.equal(sentProof, false);
});

test('a wrong SCRAM server signature is refused', async (t) => {
  const { opened } = await against(t, async (io) => {
    await io.read();
    io.write(auth(10, 'SCRAM-SHA-256\0\0'));
    const initial = await io.read();
    const nonce = /r=([^,]+)$/.exec(initial.body.toString())?.[1] ?? '';
    io.write(auth(11, `r=${nonce}server,s=QUJD,i=4096`));
    await io.read();
    io.write(auth(12, `v=${Buffer.alloc(32, 7).toString('base64')}`));
  });
  refused(opened, 'auth', /signature does not match/);
});

test('MD5, GSS and SCRAM-SHA-256-PLUS-only servers are refused with a typed auth error', async (t) => {
  for (const [request, message] of [[auth(5, Buffer.from([1, 2, 3, 4])), /MD5/], [auth(7), /not support/], [auth(10, 'SCRAM-SHA-256-PLUS\0\0'), /SASL mechanism/]] as const) {
    const { opened } = await against(t, async (io) => {
      await io.read();
      io.write(request);
    });
    refused(opened, 'auth', message);
  }
});

test('a cleartext password request without TLS is refused and the password is never sent', async (t) => {
  let received: (string | null)[] = [];
  const { opened } = await against(t, async (io) => {
    await io.read();
    io.write(auth(3));
    await io.read().catch(() => null);
    received = io.received.map((m) => m.type);
  });
  refused(opened, 'auth', /cleartext/);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(received, [null], 'only the StartupMessage');
});

test('TLS negotiation: "N" under require, extra bytes after "S", an unknown answer', async (t) => {
  const cases: [Buffer, string, PgErrorKind, RegExp][] = [
    [Buffer.from('N'), 'sslmode=require', 'tls', /does not accept TLS/],
    [Buffer.from('N'), 'sslmode=verify-full', 'tls', /does not accept TLS/],
    [Buffer.from('Sgarbage'), 'sslmode=require', 'protocol', /unexpected bytes after the answer/],
    [Buffer.from('E'), 'sslmode=require', 'protocol', /unexpected answer/],
  ];
  for (const [answer, query, kind, message] of cases) {
    const { opened } = await against(t, async (io) => {
      await io.read();
      io.write(answer);
    }, query);
    refused(opened, kind, message);
  }
});

test('sslmode=prefer goes on in plaintext after "N"', async (t) => {
  const { opened } = await against(t, async (io) => {
    await io.read();
    io.write(Buffer.from('N'));
    await trustLogin(io);
    await io.readUntilSync(1);
    io.write(REAL.selectOne);
  }, 'sslmode=prefer');
  const c = connection(opened);
  assert.equal(c.tls, false);
  assert.deepEqual(ok(await c.query('SELECT 1 AS a', [])).rows, [{ a: 1 }]);
});

test('a server that changes client_encoding away from UTF8 is dropped', async (t) => {
  const { opened, events } = await against(t, async (io) => {
    await trustLogin(io);
    io.write(frame('S', 'client_encoding\0LATIN1\0'));
  });
  connection(opened);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events.closed[0]?.kind, 'protocol');
});

test('a server whose startup never says UTF8 is refused', async (t) => {
  const { opened } = await against(t, async (io) => {
    await io.read();
    io.write(Buffer.concat([auth(0), frame('S', 'client_encoding\0SQL_ASCII\0'), REAL.keyData, REAL.ready]));
  });
  refused(opened, 'protocol', /UTF8/);
});

// The backend-message decoder against bytes recorded from a real PostgreSQL 15 server
// (test/fixtures/postgres/, made by scripts/pg-record-fixtures.ts), whole and split at every byte,
// and against corrupt frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, type BackendMessage } from '../../src/storage/postgres/wire/decode.ts';
import { FrameReader } from '../../src/storage/postgres/wire/frames.ts';
import { loadFixture, serverMessages } from '../helpers/pg-fixtures.ts';

const FIXTURES = ['libpq-simple', 'libpq-extended', 'libpq-prepared', 'libpq-describe', 'libpq-copy', 'libpq-cancel', 'negotiate', 'ours'];

function decodeAll(chunks: Buffer[]): { messages: BackendMessage[]; problems: string[] } {
  const reader = new FrameReader();
  const messages: BackendMessage[] = [];
  const problems: string[] = [];
  for (const chunk of chunks) {
    const result = reader.push(chunk);
    assert.ok(result.ok, result.ok ? '' : result.problem);
    for (const frame of result.frames) {
      const decoded = decode(frame);
      if (decoded.ok) messages.push(decoded.message);
      else problems.push(decoded.problem);
    }
  }
  assert.equal(reader.buffered, 0);
  return { messages, problems };
}

const ours = loadFixture('ours').sessions[0];
const simple = loadFixture('libpq-simple').sessions[0];
assert.ok(ours !== undefined && simple !== undefined);
const oursMessages = decodeAll(ours.serverChunks).messages;
const ofType = <T extends BackendMessage['type']>(messages: BackendMessage[], type: T): Extract<BackendMessage, { type: T }>[] =>
  messages.filter((m): m is Extract<BackendMessage, { type: T }> => m.type === type);

test('every recorded server message decodes, in the chunks it arrived in, and frames match an independent split', () => {
  for (const name of FIXTURES) {
    for (const session of loadFixture(name).sessions) {
      const { messages, problems } = decodeAll(session.serverChunks);
      const independent = serverMessages(session.server);
      if (name === 'libpq-copy') {
        // CopyData and CopyDone are never expected by this client: unknown types, refused.
        assert.deepEqual(problems, ['message "d": unknown message type 0x64', 'message "c": unknown message type 0x63']);
      } else {
        assert.deepEqual(problems, [], name);
      }
      assert.equal(messages.length + problems.length, independent.length, name);
    }
  }
});

test('split at every byte, the recorded stream decodes to exactly the same messages', () => {
  const oneByOne: Buffer[] = [];
  for (let i = 0; i < ours.server.length; i++) oneByOne.push(ours.server.subarray(i, i + 1));
  assert.deepEqual(decodeAll(oneByOne).messages, oursMessages);
  for (let cut = 0; cut <= simple.server.length; cut++) {
    const { messages } = decodeAll([simple.server.subarray(0, cut), simple.server.subarray(cut)]);
    assert.equal(messages.length, 23, `cut at ${cut}`);
  }
});

test('Authentication: SASL mechanisms, SASLContinue, SASLFinal, Ok', () => {
  const auth = ofType(oursMessages, 'authentication');
  assert.deepEqual(auth.map((a) => a.code), [10, 11, 12, 0]);
  assert.deepEqual(auth[0]?.data.toString().split('\0').filter(Boolean), ['SCRAM-SHA-256']);
  assert.match(auth[1]?.data.toString() ?? '', /^r=[\x21-\x2b\x2d-\x7e]+,s=[A-Za-z0-9+/=]+,i=4096$/);
  assert.match(auth[2]?.data.toString() ?? '', /^v=[A-Za-z0-9+/=]{44}$/);
  assert.equal(auth[3]?.data.length, 0);
});

test('ParameterStatus, BackendKeyData and ReadyForQuery from startup', () => {
  const params = new Map(ofType(oursMessages, 'parameterStatus').map((p) => [p.name, p.value]));
  assert.equal(params.get('client_encoding'), 'UTF8');
  assert.equal(params.get('DateStyle'), 'ISO, MDY');
  assert.equal(params.get('TimeZone'), 'UTC');
  assert.equal(params.get('integer_datetimes'), 'on');
  assert.match(params.get('server_version') ?? '', /^1[3-9]/);
  assert.equal(params.get('application_name'), 'recorder 2', 'the later SET is reported too');
  const [key] = ofType(oursMessages, 'backendKeyData');
  assert.ok(key !== undefined && key.pid > 0);
  assert.equal(key.secretKey.length, 4);
  assert.deepEqual([...new Set(ofType(oursMessages, 'readyForQuery').map((z) => z.status))], ['I']);
});

test('RowDescription, DataRow and CommandComplete: types, NULLs, UTF-8, exact int8 text', () => {
  const [rows] = ofType(oursMessages, 'rowDescription');
  assert.deepEqual(rows?.fields.map((f) => [f.name, f.typeOid, f.typeSize, f.format]), [['big', 20, 8, 0], ['t', 25, -1, 0], ['n', 16, 1, 0]]);
  const [data] = ofType(oursMessages, 'dataRow');
  assert.deepEqual(data?.values, ['9007199254740993', 'zürich ✓', null]);
  assert.deepEqual(ofType(oursMessages, 'commandComplete').map((c) => c.tag).slice(0, 5), ['SELECT 1', 'SELECT 1', 'SELECT 1', 'SELECT 1', 'SELECT 1']);
  const simpleMessages = decodeAll(simple.serverChunks).messages;
  assert.deepEqual(ofType(simpleMessages, 'rowDescription')[0]?.fields.map((f) => [f.name, f.typeOid]), [['one', 23], ['nothing', 25]]);
  assert.deepEqual(ofType(simpleMessages, 'dataRow')[0]?.values, ['1', null]);
});

test('ErrorResponse fields, NoticeResponse, NotificationResponse, NoData, EmptyQueryResponse, Parse/Bind/CloseComplete', () => {
  const errors = ofType(oursMessages, 'error');
  assert.deepEqual(errors.map((e) => [e.fields['S'], e.fields['V'], e.fields['C']]), [
    ['ERROR', 'ERROR', '22012'],
    ['ERROR', 'ERROR', '0A000'],
    ['ERROR', 'ERROR', '57014'],
    ['FATAL', 'FATAL', '57P01'],
  ]);
  assert.equal(errors[0]?.fields['M'], 'division by zero');
  assert.equal(errors[1]?.fields['R'], 'RevalidateCachedQuery');
  const [notice] = ofType(oursMessages, 'notice');
  assert.deepEqual([notice?.fields['V'], notice?.fields['C'], notice?.fields['M']], ['NOTICE', '00000', 'hello']);
  const [note] = ofType(oursMessages, 'notification');
  const [key] = ofType(oursMessages, 'backendKeyData');
  assert.deepEqual(note, { type: 'notification', pid: key?.pid, channel: 'chan', payload: 'payload ✓' });
  assert.ok(ofType(oursMessages, 'noData').length >= 5);
  assert.equal(ofType(oursMessages, 'emptyQuery').length, 1);
  assert.equal(ofType(oursMessages, 'closeComplete').length, 1);
  assert.ok(ofType(oursMessages, 'parseComplete').length > 10);
  assert.ok(ofType(oursMessages, 'bindComplete').length > 10);
});

test('ParameterDescription (Describe Statement), NegotiateProtocolVersion, CopyOutResponse', () => {
  const describe = decodeAll(loadFixture('libpq-describe').sessions[0]?.serverChunks ?? []).messages;
  assert.deepEqual(ofType(describe, 'parameterDescription')[0]?.oids, [20, 25]);
  const negotiate = decodeAll(loadFixture('negotiate').sessions[0]?.serverChunks ?? []).messages;
  // 196608 is 3.0 as a whole version code, though the protocol chapter speaks of a minor version.
  assert.deepEqual(negotiate[0], { type: 'negotiateProtocolVersion', newest: 196608, options: ['_pq_.not_an_option'] });
  assert.equal(negotiate[1]?.type, 'authentication');
  const copy = decodeAll(loadFixture('libpq-copy').sessions[0]?.serverChunks ?? []).messages;
  assert.deepEqual(ofType(copy, 'copy'), [{ type: 'copy', code: 'H' }]);
});

test('PortalSuspended (not recorded: this client never limits rows) decodes from its documented form', () => {
  const decoded = decode({ type: 0x73, body: Buffer.alloc(0) });
  assert.deepEqual(decoded, { ok: true, message: { type: 'portalSuspended' } });
});

const frame = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

test('a truncated frame is held until the rest arrives; the reader emits nothing early', () => {
  const z = frame('Z', Buffer.from('I'));
  const reader = new FrameReader();
  const first = reader.push(Buffer.concat([z, z.subarray(0, 3)]));
  assert.ok(first.ok);
  assert.equal(first.frames.length, 1);
  assert.equal(reader.buffered, 3);
  const rest = reader.push(z.subarray(3));
  assert.ok(rest.ok);
  assert.equal(rest.frames.length, 1);
  assert.equal(reader.buffered, 0);
});

test('a large frame in many small chunks is joined once, not copied per chunk', () => {
  const body = Buffer.alloc(1_000_000, 0x61);
  const whole = frame('D', Buffer.concat([Buffer.from([0, 1]), Buffer.from([0, 0x0f, 0x42, 0x3a]), body.subarray(0, 999_994)]));
  const reader = new FrameReader();
  let frames = 0;
  for (let i = 0; i < whole.length; i += 1000) {
    const r = reader.push(whole.subarray(i, i + 1000));
    assert.ok(r.ok);
    frames += r.frames.length;
  }
  assert.equal(frames, 1);
});

test('length fields out of range (under 4, over the limit, negative) fail the stream for good', () => {
  for (const length of [0, 3, 0x7fffffff, 0xffffffff]) {
    const bad = Buffer.alloc(5);
    bad[0] = 0x44;
    bad.writeUInt32BE(length, 1);
    const reader = new FrameReader(1024 * 1024);
    const r = reader.push(bad);
    assert.equal(r.ok, false, `length ${length}`);
    assert.equal(reader.push(frame('Z', Buffer.from('I'))).ok, false, 'stays failed');
  }
  assert.equal(new FrameReader(100).push(frame('D', Buffer.alloc(100))).ok, false);
});

test('malformed bodies are protocol errors: unknown type, trailing bytes, missing NUL, bad lengths and counts', () => {
  const bad: [string, Buffer][] = [
    ['?', Buffer.alloc(0)],
    ['Z', Buffer.from('IX')],
    ['Z', Buffer.from('Q')],
    ['Z', Buffer.alloc(0)],
    ['S', Buffer.from('name\0value')],
    ['C', Buffer.from('SELECT 1')],
    ['K', Buffer.from([0, 0, 1])],
    ['D', Buffer.from([0, 1, 0xff, 0xff, 0xff, 0xfe])],
    ['D', Buffer.from([0, 1, 0, 0, 0, 9, 0x61])],
    ['D', Buffer.from([0xff, 0xff])],
    ['T', Buffer.from([0, 1, 0x61, 0])],
    ['E', Buffer.from('SERROR\0')],
    ['A', Buffer.from([0, 0, 0, 1, 0x63, 0])],
    ['t', Buffer.from([0, 2, 0, 0, 0, 23])],
    ['1', Buffer.from([0])],
  ];
  for (const [type, body] of bad) {
    const decoded = decode({ type: type.charCodeAt(0), body });
    assert.equal(decoded.ok, false, `${type} ${body.toString('hex')}`);
  }
});

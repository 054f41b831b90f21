// Seeded hostile requests, each with the statuses SPEC.md allows for it and, for a valid signed
// delivery, the row it must create. Nothing else may ever be stored.
import { sign } from '../../src/webhook/signature.ts';
import type { Random } from '../helpers/seeded.ts';

export const HOSTILE_SECRET = 'H0stile-Suite-S3cret-5b8e21';
/** Every message text the suite sends contains this, so the log and answers can be searched for it. */
export const TEXT_MARK = 'HOSTILE-TEXT-9q7w';
export const MAX_BODY = 262_144;

export type Row = { message_id: string; from: string; to: string; ts: string; text: string | null };

export type HostileCase = {
  family: string;
  /** An HTTP request (sent by node:http) or raw bytes on a fresh socket. */
  request: { method: string; path: string; headers: Record<string, string>; body?: Buffer } | { raw: Buffer; halfClose?: boolean };
  /** Allowed statuses; 0 means the connection may close without an answer. */
  expect: readonly number[];
  stores?: Row;
  /** Every row a valid signed delivery of several messages (a WhatsApp envelope) must create. */
  storesAll?: readonly Row[];
};

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const signed = (body: Buffer, extra: Record<string, string> = {}): Record<string, string> => ({ 'Content-Type': 'application/json', 'X-Signature': sign(HOSTILE_SECRET, body), ...extra });
const post = (body: Buffer, headers: Record<string, string>): HostileCase['request'] => ({ method: 'POST', path: '/webhook', headers, body });

let seq = 0;
const ID_SHAPES = ['plain', 'unicode é中👍', "quote'\"\\ back", "'; DROP TABLE messages; --", '%_ like', ' spaced ', 'x'.repeat(500)];
const TEXTS = (rng: Random): string | null | undefined => {
  switch (rng.int(0, 7)) {
    case 0: return null;
    case 1: return undefined; // absent
    case 2: return `${TEXT_MARK} ${'👍'.repeat(4096 - TEXT_MARK.length - 1)}`; // 4,096 code points, nearly all emoji
    case 3: return `${TEXT_MARK}`.padEnd(4096, 'e\u0301'); // 4,096 code points with combining marks
    case 4: return `${TEXT_MARK} ' " \\ %_ \u0000-free ÉCOLE ß Σ`;
    default: return `${TEXT_MARK} ${rng.int(0, 1e6)}`;
  }
};

export function validRow(rng: Random): Row & { textAbsent: boolean } {
  seq += 1;
  const text = TEXTS(rng);
  return {
    message_id: `h${seq}-${rng.pick(ID_SHAPES)}`,
    from: `+${rng.int(1, 9)}${'0123456789'.slice(0, rng.int(0, 10))}`,
    to: `+${String(rng.int(1, 999999999999999))}`,
    ts: rng.pick(['2025-01-15T10:00:00Z', '2024-02-29T23:59:59.123456789Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.9Z', '2025-06-30T12:00:00.5Z']),
    text: text ?? null,
    textAbsent: text === undefined,
  };
}

export function rowJson(row: Row & { textAbsent: boolean }, extra = ''): string {
  const { textAbsent, ...fields } = row;
  const obj: Record<string, unknown> = { ...fields };
  if (textAbsent) delete obj['text'];
  const json = JSON.stringify(obj);
  return extra === '' ? json : `${json.slice(0, -1)},${extra}}`;
}

export const strip = (r: Row & { textAbsent: boolean }): Row => ({ message_id: r.message_id, from: r.from, to: r.to, ts: r.ts, text: r.text });

/** Valid and signed, in many shapes: must be 200 and stored exactly as sent. */
function valid(rng: Random): HostileCase {
  const row = validRow(rng);
  const extras = ['', '"__proto__":{"polluted":true}', '"constructor":{"prototype":{"x":1}}', `"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}`, '"n":1e999', '"big":123456789012345678901234567890', '"extra":null', '"message_id_2":"x"'];
  let body = rowJson(row, rng.pick(extras));
  if (rng.chance(0.1)) body = `{"message_id":"overwritten",${body.slice(1)}`; // duplicate key: the last one wins
  if (rng.chance(0.1)) body = `  ${body}\n`;
  // A leading UTF-8 byte order mark is ignored, as the earlier service (Python's json.loads on
  // bytes) did; RFC 8259 section 8.1 allows that.
  if (rng.chance(0.05)) body = `\ufeff${body}`;
  const bytes = utf8(body);
  let signature = sign(HOSTILE_SECRET, bytes);
  if (rng.chance(0.2)) signature = signature.toUpperCase();
  if (rng.chance(0.1)) signature = ` ${signature}  `; // optional whitespace around a header value is not part of it
  return { family: 'valid signed', request: post(bytes, { 'Content-Type': 'application/json', 'X-Signature': signature }), expect: [200], stores: strip(row) };
}

const INVALID_BYTES = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xe2, 0x82])];

/** A valid body broken at the byte level, then signed: never JSON that validates, always 422. */
function mutated(rng: Random): HostileCase {
  const bytes = utf8(rowJson(validRow(rng)));
  let out: Buffer;
  switch (rng.int(0, 5)) {
    case 0: out = bytes.subarray(0, rng.int(0, bytes.length - 1)); break; // truncated
    case 1: {
      const at = rng.int(0, bytes.length);
      out = Buffer.concat([bytes.subarray(0, at), rng.pick(INVALID_BYTES), bytes.subarray(at)]);
      break;
    }
    case 2: out = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes.subarray(0, -1)]); break; // BOM, then truncated
    case 3: {
      const at = rng.int(0, bytes.length);
      out = Buffer.concat([bytes.subarray(0, at), Buffer.from([0]), bytes.subarray(at)]);
      break;
    }
    case 4: out = utf8(rng.pick(['[]', '"x"', '123', 'null', 'true', '', ' ', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, '{', '{"a":1,}', "{'message_id':'x'}", 'NaN', '1e999'])); break;
    default: {
      // the first name-value separator replaced: never JSON
      const at = bytes.indexOf(':');
      out = Buffer.concat([bytes.subarray(0, at), utf8(rng.pick([';', '=', ' ', ',', '::'])), bytes.subarray(at + 1)]);
    }
  }
  return { family: 'mutated body', request: post(out, signed(out)), expect: [422] };
}

const WRONG_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  message_id: ['', 1, 1e308, true, null, [], {}, ['x'], '\ud800'],
  from: ['919876543210', '+', '+1234567890123456', ' +919876543210', '+91987654321O', '+٣٣', '+1\n', '+1 2', `${TEXT_MARK}`, 919876543210, null, '\ud800'],
  to: ['', '++1', '+1-2', {}, false, null],
  ts: ['2025-01-15T10:00:00+00:00', '2025-01-15T10:00:00z', '2025-01-15 10:00:00Z', '2025-02-30T10:00:00Z', '2025-01-15T24:00:00Z', '2025-01-15T10:00:00.1234567890Z', '1736935200', 1736935200, '', null, '2025-1-15T10:00:00Z', `${TEXT_MARK}`],
  text: ['x'.repeat(4097), `${TEXT_MARK}${'👍'.repeat(4097 - TEXT_MARK.length)}`, `${TEXT_MARK}`.padEnd(4097, 'e\u0301'), 1, true, [TEXT_MARK], { t: TEXT_MARK }, '\udc00 lone'],
};

/** Wrong JSON types or values in one or more fields, or fields missing: 422. */
function invalidFields(rng: Random): HostileCase {
  const row = validRow(rng);
  const obj: Record<string, unknown> = { ...strip(row) };
  const fields = Object.keys(WRONG_VALUES);
  const broken = fields.filter(() => rng.chance(0.3));
  if (broken.length === 0) broken.push(rng.pick(fields));
  for (const field of broken) {
    if (field !== 'text' && rng.chance(0.15)) delete obj[field];
    else obj[field] = rng.pick(WRONG_VALUES[field] ?? []);
  }
  const bytes = utf8(JSON.stringify(obj));
  return { family: 'invalid fields', request: post(bytes, signed(bytes)), expect: [422] };
}

/** Signature headers that must fail (401), whatever the body. */
function badSignature(rng: Random): HostileCase {
  const body = utf8(rowJson(validRow(rng)));
  const good = sign(HOSTILE_SECRET, body);
  const variants: (() => Record<string, string> | Buffer)[] = [
    () => ({}),
    () => ({ 'X-Signature': '' }),
    () => ({ 'X-Signature': sign('wrong-secret', body) }),
    () => ({ 'X-Signature': `sha256=${good}` }),
    () => ({ 'X-Signature': good.slice(0, 63) }),
    () => ({ 'X-Signature': `${good}00` }),
    () => ({ 'X-Signature': `${good.slice(0, 32)} ${good.slice(32)}` }),
    () => ({ 'X-Signature': `${good.slice(0, 62)}zz` }),
    () => ({ 'X-Signature': 'a'.repeat(10_240) }),
    () => ({ 'X-Signature': Buffer.from(good, 'hex').toString('base64') }),
    () => ({ 'X-Signature': sign(HOSTILE_SECRET, `${body.toString('latin1')} `) }),
    // raw: non-ASCII bytes, and the header twice (node:http joins repeats with ", ")
    () => Buffer.concat([utf8(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nX-Signature: ${good.slice(0, 60)}é€\r\nConnection: close\r\n\r\n`), body]),
    () => Buffer.concat([utf8(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nX-Signature: ${good}\r\nX-Signature: ${good}\r\nConnection: close\r\n\r\n`), body]),
  ];
  const made = rng.pick(variants)();
  if (Buffer.isBuffer(made)) return { family: 'bad signature', request: { raw: made }, expect: [401] };
  return { family: 'bad signature', request: post(body, { 'Content-Type': 'application/json', ...made }), expect: [401] };
}

/** Framing: chunked bodies, Content-Length lies, both headers, bodies over the limit. */
function framing(rng: Random): HostileCase {
  const row = validRow(rng);
  const body = utf8(rowJson(row));
  const sig = sign(HOSTILE_SECRET, body);
  const head = (lines: string): Buffer => utf8(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Signature: ${sig}\r\n${lines}Connection: close\r\n\r\n`);
  const chunked = (bytes: Buffer): Buffer => {
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 1000) {
      const piece = bytes.subarray(i, i + 1000);
      parts.push(utf8(`${piece.length.toString(16)}\r\n`), piece, utf8('\r\n'));
    }
    return Buffer.concat([...parts, utf8('0\r\n\r\n')]);
  };
  const big = Buffer.alloc(MAX_BODY + rng.int(1, 5000), 0x61);
  switch (rng.int(0, 7)) {
    case 0: return { family: 'framing', request: { raw: Buffer.concat([head('Transfer-Encoding: chunked\r\n'), chunked(body)]) }, expect: [200], stores: strip(row) };
    // A body shorter than the bytes sent: the leftover bytes are a malformed next request: the first
    // is answered (401, the signature no longer matches), then a 400, and the connection closes.
    case 1: return { family: 'framing', request: { raw: Buffer.concat([head(`Content-Length: ${body.length - rng.int(1, 10)}\r\n`), body]) }, expect: [401, 400, 0] };
    case 2: return { family: 'framing', request: { raw: Buffer.concat([head(`Content-Length: ${body.length + rng.int(1, 10)}\r\n`), body]), halfClose: true }, expect: [0, 400] };
    case 3: return { family: 'framing', request: { raw: Buffer.concat([head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`), chunked(body)]) }, expect: [400] };
    case 4: return { family: 'framing', request: { raw: Buffer.concat([head(`Content-Length: ${rng.pick(['abc', '-1', '1, 2', '0x10', ''])}\r\n`), body]) }, expect: [400] };
    case 5: return { family: 'over the limit', request: post(big, signed(big)), expect: [413] };
    case 6: return { family: 'over the limit', request: { raw: Buffer.concat([head('Transfer-Encoding: chunked\r\n'), chunked(big)]) }, expect: [413] };
    default: return { family: 'over the limit', request: { raw: Buffer.concat([head(`Content-Length: ${rng.int(MAX_BODY + 1, 2 ** 40)}\r\n`), body]), halfClose: true }, expect: [413] };
  }
}

// [raw query value, valid?]
const LIMITS: readonly [string, boolean][] = [['1e309', false], ['-0', false], ['0x10', false], ['%205', true], ['5%20', true], ['%2B5', true], ['1.0', false], ['', false], ['100', true], ['101', false], ['0', false], ['1', true], ['99999999999999999999', false], ['%D9%A3', false], ['%00', false], ['%ZZ', false], ['NaN', false], ['Infinity', false]];
const OFFSETS: readonly [string, boolean][] = [['-0', true], ['-1', false], ['1e3', false], ['9007199254740991', true], ['9007199254740992', false], ['0', true], ['5', true], ['%2B0', true], ['abc', false], ['1_000', false]];
const SINCES: readonly [string, boolean][] = [['2025-01-15T10:00:00Z', true], ['2025-01-15T10%3A00%3A00.5Z', true], ['garbage', false], ['', false], ['2025-01-15', false], ['2025-02-30T00:00:00Z', false], ["'%20OR%201%3D1--", false], ['%E0%A4%A', false], ['1736935200', false]];
const TEXT_PARAMS: readonly string[] = ['%25', '_', '%5C', '%27', '%22', "'%20OR%20'1'%3D'1", '%3B%20DROP%20TABLE%20messages%3B', '%E0%A4%A', '%ZZ', '%', '%F0%9F%91%8D', '%C3%A9', '%00', '+91', '%2B91', '%20'];

/** GET /messages with hostile parameters: 200 or 422 by the rules; a request line over Node's header limit is 431. */
function query(rng: Random): HostileCase {
  const parts: string[] = [];
  const last = new Map<string, boolean>();
  for (let i = rng.int(1, 5); i > 0; i -= 1) {
    switch (rng.int(0, 4)) {
      case 0: { const [v, ok] = rng.pick(LIMITS); parts.push(`limit=${v}`); last.set('limit', ok); break; }
      case 1: { const [v, ok] = rng.pick(OFFSETS); parts.push(`offset=${v}`); last.set('offset', ok); break; }
      case 2: { const [v, ok] = rng.pick(SINCES); parts.push(`since=${v}`); last.set('since', ok); break; }
      case 3: parts.push(`q=${rng.pick(TEXT_PARAMS)}`); break;
      default: parts.push(`${rng.pick(['from', 'q', 'unknown', '__proto__', 'limit[]'])}=${rng.pick(TEXT_PARAMS)}`);
    }
  }
  if (rng.chance(0.01)) {
    parts.push(`q=${'a'.repeat(100_000)}`);
    return { family: 'query', request: { method: 'GET', path: `/messages?${parts.join('&')}`, headers: {} }, expect: [431] };
  }
  const ok = [...last.values()].every(Boolean);
  return { family: 'query', request: { method: rng.chance(0.1) ? 'HEAD' : 'GET', path: `/messages?${parts.join('&')}`, headers: {} }, expect: [ok ? 200 : 422] };
}

const KNOWN = ['/webhook', '/messages', '/stats', '/health/live', '/health/ready', '/metrics'];

/** Unknown paths (404), known paths with other methods (405), odd request targets and methods. */
function pathsAndMethods(rng: Random): HostileCase {
  switch (rng.int(0, 4)) {
    case 0: {
      const junk = Array.from({ length: rng.int(1, 4) }, () => rng.pick(['a', '..', '%2e%2e', '%00', 'webhooks', 'messages%2F', '%E2%82', '~', 'x'.repeat(rng.int(1, 2000)), 'Messages', 'health', ''])).join('/');
      return { family: 'unknown path', request: { method: rng.pick(['GET', 'POST', 'DELETE']), path: `/${junk}${rng.chance(0.3) ? '?a=b' : ''}`, headers: {} }, expect: [404] };
    }
    case 1: {
      const path = rng.pick(KNOWN);
      const method = path === '/webhook' ? rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) : rng.pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      return { family: 'wrong method', request: { method, path, headers: {} }, expect: [405] };
    }
    case 2: return { family: 'wrong method', request: { raw: utf8(`${rng.pick(['PURGE', 'PROPFIND', 'MKCOL', 'LOCK'])} ${rng.pick(KNOWN)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) }, expect: [405] };
    case 3: return { family: 'odd request', request: { raw: utf8(`${rng.pick(['BREW', 'GETT', 'get', 'G ET'])} /messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) }, expect: [400] };
    default: {
      const target = rng.pick(['*', 'http://example.com/messages', '//messages', '/messages/', '/stats#frag', '/%ff']);
      // An absolute-form target is routed by its path (RFC 9112 §3.2.2).
      return { family: 'odd request', request: { raw: utf8(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) }, expect: target.startsWith('http:') ? [200] : [400, 404] };
    }
  }
}

const FAMILIES: readonly [number, (rng: Random) => HostileCase][] = [
  [14, valid], [22, mutated], [20, invalidFields], [14, badSignature], [4, framing], [18, query], [8, pathsAndMethods],
];

export function generateCase(rng: Random): HostileCase {
  const total = FAMILIES.reduce((n, [w]) => n + w, 0);
  let roll = rng.int(1, total);
  for (const [weight, make] of FAMILIES) {
    roll -= weight;
    if (roll <= 0) return make(rng);
  }
  return valid(rng);
}

// Frontend messages, byte for byte as the protocol chapter lays them out:
// https://www.postgresql.org/docs/current/protocol-message-formats.html
// Strings are NUL-terminated, so a NUL inside one would end it early and shift every byte after it:
// that is a bug in the caller and throws.

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST_CODE = 80877103;
export const CANCEL_REQUEST_CODE = 80877102;

/** A parameter in text format; null is SQL NULL. */
export type Param = string | number | bigint | boolean | Date | Uint8Array | null;

function cstring(text: string, what: string): Buffer {
  if (text.includes('\0')) throw new TypeError(`${what} must not contain a NUL character`);
  return Buffer.from(`${text}\0`, 'utf8');
}

/** A typed message: type byte, Int32 length (counting itself), body. */
function message(type: string, parts: readonly Buffer[]): Buffer {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = Buffer.allocUnsafe(5 + size);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + size, 1);
  let offset = 5;
  for (const part of parts) offset += part.copy(out, offset);
  return out;
}

const int16 = (value: number): Buffer => {
  const b = Buffer.allocUnsafe(2);
  b.writeInt16BE(value);
  return b;
};

const int32 = (value: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(value);
  return b;
};

export function startupMessage(parameters: Readonly<Record<string, string>>): Buffer {
  const parts = [int32(PROTOCOL_3_0)];
  for (const [name, value] of Object.entries(parameters)) parts.push(cstring(name, 'a startup parameter'), cstring(value, 'a startup parameter'));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(4 + body.length), body]);
}

export const sslRequest = (): Buffer => Buffer.concat([int32(8), int32(SSL_REQUEST_CODE)]);

/** The cancel key is 4 bytes in protocol 3.0 (longer in 3.2), sent back exactly as received. */
export const cancelRequest = (pid: number, secretKey: Buffer): Buffer =>
  Buffer.concat([int32(12 + secretKey.length), int32(CANCEL_REQUEST_CODE), int32(pid), secretKey]);

export const passwordMessage = (password: string): Buffer => message('p', [cstring(password, 'the password')]);

export const saslInitialResponse = (mechanism: string, data: Buffer): Buffer =>
  message('p', [cstring(mechanism, 'the SASL mechanism'), int32(data.length), data]);

export const saslResponse = (data: Buffer): Buffer => message('p', [data]);

export function parse(name: string, sql: string): Buffer {
  // No parameter types: the server infers each from its use, as with text parameters in libpq.
  return message('P', [cstring(name, 'a statement name'), cstring(sql, 'the SQL text'), int16(0)]);
}

export function encodeParam(value: Param): Buffer | null {
  if (value === null) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'boolean') return Buffer.from(value ? 't' : 'f');
  if (typeof value === 'number' || typeof value === 'bigint') return Buffer.from(String(value));
  if (value instanceof Date) return Buffer.from(value.toISOString());
  // bytea in its hex text form.
  return Buffer.from(`\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`);
}

export function bind(portal: string, statement: string, params: readonly Param[]): Buffer {
  if (params.length > 65535) throw new RangeError('at most 65535 parameters fit in one statement');
  const parts = [cstring(portal, 'a portal name'), cstring(statement, 'a statement name'), int16(0), int16(params.length)];
  for (const param of params) {
    const bytes = encodeParam(param);
    if (bytes === null) parts.push(int32(-1));
    else parts.push(int32(bytes.length), bytes);
  }
  // No result format codes: every column comes back as text.
  parts.push(int16(0));
  return message('B', parts);
}

export const describePortal = (portal: string): Buffer => message('D', [Buffer.from('P'), cstring(portal, 'a portal name')]);

export const describeStatement = (name: string): Buffer => message('D', [Buffer.from('S'), cstring(name, 'a statement name')]);

/** maxRows 0: every row. */
export const execute = (portal: string, maxRows = 0): Buffer => message('E', [cstring(portal, 'a portal name'), int32(maxRows)]);

export const closeStatement = (name: string): Buffer => message('C', [Buffer.from('S'), cstring(name, 'a statement name')]);

export const sync = (): Buffer => message('S', []);

export const flush = (): Buffer => message('H', []);

export const simpleQuery = (sql: string): Buffer => message('Q', [cstring(sql, 'the SQL text')]);

export const terminate = (): Buffer => message('X', []);

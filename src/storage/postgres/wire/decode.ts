// Backend messages, decoded strictly: every field must fit inside the frame and the frame must end
// where its last field does. Anything else is a protocol error, and the connection is dropped.
// https://www.postgresql.org/docs/current/protocol-message-formats.html
import type { Frame } from './frames.ts';

export type Field = { name: string; tableOid: number; column: number; typeOid: number; typeSize: number; typeMod: number; format: number };

export type BackendMessage =
  | { type: 'authentication'; code: number; data: Buffer }
  | { type: 'backendKeyData'; pid: number; secretKey: Buffer }
  | { type: 'parameterStatus'; name: string; value: string }
  | { type: 'readyForQuery'; status: 'I' | 'T' | 'E' }
  | { type: 'error'; fields: Record<string, string> }
  | { type: 'notice'; fields: Record<string, string> }
  | { type: 'notification'; pid: number; channel: string; payload: string }
  | { type: 'rowDescription'; fields: Field[] }
  | { type: 'dataRow'; values: (string | null)[] }
  | { type: 'commandComplete'; tag: string }
  | { type: 'parseComplete' }
  | { type: 'bindComplete' }
  | { type: 'closeComplete' }
  | { type: 'noData' }
  | { type: 'emptyQuery' }
  | { type: 'portalSuspended' }
  | { type: 'parameterDescription'; oids: number[] }
    /**
   * The docs call the first field the newest supported minor version; PostgreSQL 15 actually sends
   * the whole version code (196608 = 3.0), as the recorded fixture shows. Kept as sent.
   */
  | { type: 'negotiateProtocolVersion'; newest: number; options: string[] }
  /** COPY is never started by this client; the connection refuses it. */
  | { type: 'copy'; code: string };

export type Decoded = { ok: true; message: BackendMessage } | { ok: false; problem: string };

class Cursor {
  readonly #body: Buffer;
  #offset = 0;
  constructor(body: Buffer) {
    this.#body = body;
  }
  #need(n: number): void {
    if (this.#offset + n > this.#body.length) throw new RangeError('field runs past the end of the message');
  }
  int16(): number {
    this.#need(2);
    const v = this.#body.readInt16BE(this.#offset);
    this.#offset += 2;
    return v;
  }
  int32(): number {
    this.#need(4);
    const v = this.#body.readInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }
  uint32(): number {
    this.#need(4);
    const v = this.#body.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }
  byte(): number {
    this.#need(1);
    return this.#body[this.#offset++] ?? 0;
  }
  bytes(n: number): Buffer {
    this.#need(n);
    const v = this.#body.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }
  rest(): Buffer {
    return this.bytes(this.#body.length - this.#offset);
  }
  cstring(): string {
    const end = this.#body.indexOf(0, this.#offset);
    if (end === -1) throw new RangeError('string without its NUL terminator');
    const v = this.#body.toString('utf8', this.#offset, end);
    this.#offset = end + 1;
    return v;
  }
  end(): void {
    if (this.#offset !== this.#body.length) throw new RangeError(`${this.#body.length - this.#offset} unexpected bytes at the end of the message`);
  }
}

function fieldsOf(c: Cursor): Record<string, string> {
  const fields: Record<string, string> = {};
  for (;;) {
    const code = c.byte();
    if (code === 0) break;
    fields[String.fromCharCode(code)] = c.cstring();
  }
  return fields;
}

function read(type: number, c: Cursor): BackendMessage {
  switch (String.fromCharCode(type)) {
    case 'R': return { type: 'authentication', code: c.int32(), data: Buffer.from(c.rest()) };
    case 'K': return { type: 'backendKeyData', pid: c.int32(), secretKey: Buffer.from(c.rest()) };
    case 'S': return { type: 'parameterStatus', name: c.cstring(), value: c.cstring() };
    case 'Z': {
      const status = String.fromCharCode(c.byte());
      if (status !== 'I' && status !== 'T' && status !== 'E') throw new RangeError('unknown transaction status');
      return { type: 'readyForQuery', status };
    }
    case 'E': return { type: 'error', fields: fieldsOf(c) };
    case 'N': return { type: 'notice', fields: fieldsOf(c) };
    case 'A': return { type: 'notification', pid: c.int32(), channel: c.cstring(), payload: c.cstring() };
    case 'T': {
      const count = c.int16();
      if (count < 0) throw new RangeError('negative column count');
      const fields: Field[] = [];
      for (let i = 0; i < count; i++) {
        fields.push({ name: c.cstring(), tableOid: c.uint32(), column: c.int16(), typeOid: c.uint32(), typeSize: c.int16(), typeMod: c.int32(), format: c.int16() });
      }
      return { type: 'rowDescription', fields };
    }
    case 'D': {
      const count = c.int16();
      if (count < 0) throw new RangeError('negative column count');
      const values: (string | null)[] = [];
      for (let i = 0; i < count; i++) {
        const length = c.int32();
        if (length < -1) throw new RangeError('negative value length');
        values.push(length === -1 ? null : c.bytes(length).toString('utf8'));
      }
      return { type: 'dataRow', values };
    }
    case 'C': return { type: 'commandComplete', tag: c.cstring() };
    case '1': return { type: 'parseComplete' };
    case '2': return { type: 'bindComplete' };
    case '3': return { type: 'closeComplete' };
    case 'n': return { type: 'noData' };
    case 'I': return { type: 'emptyQuery' };
    case 's': return { type: 'portalSuspended' };
    case 't': {
      const count = c.int16();
      if (count < 0) throw new RangeError('negative parameter count');
      const oids: number[] = [];
      for (let i = 0; i < count; i++) oids.push(c.uint32());
      return { type: 'parameterDescription', oids };
    }
    case 'v': {
      const newest = c.int32();
      const count = c.int32();
      if (count < 0) throw new RangeError('negative option count');
      const options: string[] = [];
      for (let i = 0; i < count; i++) options.push(c.cstring());
      return { type: 'negotiateProtocolVersion', newest, options };
    }
    case 'G':
    case 'H':
    case 'W':
      c.rest();
      return { type: 'copy', code: String.fromCharCode(type) };
    default:
      throw new RangeError(`unknown message type 0x${type.toString(16).padStart(2, '0')}`);
  }
}

export function decode(frame: Frame): Decoded {
  const cursor = new Cursor(frame.body);
  try {
    const message = read(frame.type, cursor);
    cursor.end();
    return { ok: true, message };
  } catch (error) {
    const what = error instanceof Error ? error.message : 'malformed';
    return { ok: false, problem: `message ${JSON.stringify(String.fromCharCode(frame.type))}: ${what}` };
  }
}

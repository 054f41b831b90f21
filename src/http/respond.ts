// The only writer of responses: status, headers and body for every reply the app produces,
// including long-lived streamed bodies (respond-stream.ts pulls them chunk by chunk only as fast as
// the client takes them, and keeps them in a registry so that shutdown can find and end them), and
// as raw bytes on the socket for the few requests node:http could not parse far enough to hand over
// (http/client-errors.ts).
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { ERRORS, type ErrorCode } from './errors.ts';
import type { Headers, Reply } from './reply.ts';
import { sendStream, type Sent, type StreamRegistry } from './respond-stream.ts';

export { createStreamRegistry, type OpenStreams, type Sent, type StreamOutcome, type StreamRegistry } from './respond-stream.ts';

const JSON_TYPE = 'application/json';
const NO_HEADERS: Headers = Object.freeze({});

type Rendered = { status: number; contentType: string; body: string; headers: Headers };
type Whole = Exclude<Reply, { kind: 'stream' } | { kind: 'not_modified' }>;

function render(reply: Whole): Rendered {
  const headers = reply.headers ?? NO_HEADERS;
  switch (reply.kind) {
    case 'json':
      return { status: reply.status, contentType: JSON_TYPE, body: JSON.stringify(reply.body), headers };
    case 'text':
      return { status: reply.status, contentType: reply.contentType, body: reply.body, headers };
    case 'invalid':
      return { status: 422, contentType: JSON_TYPE, body: JSON.stringify({ detail: reply.errors }), headers };
    case 'error': {
      const entry = ERRORS[reply.code];
      return { status: entry.status, contentType: JSON_TYPE, body: JSON.stringify({ detail: entry.detail }), headers: { ...entry.headers, ...headers } };
    }
  }
}

/** Whether the reply, with these extra headers, carries Connection: close. */
export function closesConnection(reply: Reply, extra: Headers): boolean {
  const close = (headers: Headers | undefined): boolean => headers?.['Connection']?.toLowerCase() === 'close';
  return close(extra) || close(reply.headers) || (reply.kind === 'error' && close(ERRORS[reply.code].headers));
}

/** Status of a reply that could not be written: the client had gone (nginx's "client closed request"). */
export const NOT_SENT = 499;

const gone = (res: ServerResponse): boolean => res.destroyed || res.socket === null || res.socket.destroyed;

/**
 * Writes the reply (for a stream: its head, then the body in the background) and returns the
 * status sent, or NOT_SENT when the connection was already gone. HEAD responses carry the headers
 * of GET, no body.
 */
export function send(res: ServerResponse, reply: Reply, extra: Headers, streams?: StreamRegistry): Sent {
  if (reply.kind === 'stream') return sendStream(res, reply, extra, streams);
  if (reply.kind === 'not_modified') {
    if (res.headersSent) return { status: 304, streamed: null };
    if (gone(res)) return { status: NOT_SENT, streamed: null };
    // RFC 9110 §15.4.5: no body, and the validator a 200 would have carried.
    res.writeHead(304, { ...reply.headers, ...extra }).end();
    return { status: 304, streamed: null };
  }
  const out = render(reply);
  if (res.headersSent) return { status: out.status, streamed: null };
  if (gone(res)) return { status: NOT_SENT, streamed: null };
  // The body as a string: node:http then sends head and body in one write (a Buffer would be a
  // second chunk of a writev); the same bytes either way.
  res.writeHead(out.status, headerList(out.headers, extra, out.contentType, String(Buffer.byteLength(out.body, 'utf8'))));
  res.end(out.body, 'utf8');
  return { status: out.status, streamed: null };
}

/**
 * The response's headers as node:http's flat [name, value, …] list: the reply's, then the extra
 * ones, then Content-Type and Content-Length, each name once and in its first place (as spreading
 * them into one object would give). The usual reply has no headers of its own: no object is made.
 */
function headerList(own: Headers, extra: Headers, contentType: string, contentLength: string): string[] {
  const list: string[] = [];
  for (const name in own) list.push(name, own[name] ?? '');
  for (const name in extra) put(list, name, extra[name] ?? '', own);
  put(list, 'Content-Type', contentType, own, extra);
  put(list, 'Content-Length', contentLength, own, extra);
  return list;
}

function put(list: string[], name: string, value: string, ...before: Headers[]): void {
  if (before.some((h) => Object.hasOwn(h, name))) {
    for (let i = 0; i < list.length; i += 2) if (list[i] === name) list[i + 1] = value;
  } else list.push(name, value);
}

/**
 * A whole HTTP/1.1 response as bytes, for writing to a bare socket: with Date (RFC 9110 §6.6.1, as
 * node:http adds to every other response) and Connection: close.
 */
export function renderRaw(code: ErrorCode, extra: Headers): { status: number; bytes: Buffer } {
  const out = render({ kind: 'error', code });
  const body = Buffer.from(out.body, 'utf8');
  const headers: Record<string, string> = { ...out.headers, ...extra, 'Content-Type': out.contentType, 'Content-Length': String(body.length), Date: new Date().toUTCString(), Connection: 'close' };
  let head = `HTTP/1.1 ${out.status} ${STATUS_CODES[out.status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return { status: out.status, bytes: Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]) };
}

// The only writer of responses: status, headers and body for every reply the app produces, through
// node:http's ServerResponse, or as raw bytes on the socket for the few requests node:http could
// not parse far enough to hand over (http/client-errors.ts).
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { ERRORS } from './errors.ts';
import type { Headers, Reply } from './reply.ts';

const JSON_TYPE = 'application/json';

type Rendered = { status: number; contentType: string; body: string; headers: Headers };

function render(reply: Reply): Rendered {
  const headers = reply.headers ?? {};
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

/**
 * Writes the reply and returns the status sent, or NOT_SENT when the connection was already gone.
 * HEAD responses carry the headers of GET, no body (node:http drops it).
 */
export function send(res: ServerResponse, reply: Reply, extra: Headers): number {
  const out = render(reply);
  if (res.headersSent) return out.status;
  if (res.destroyed || res.socket === null || res.socket.destroyed) return NOT_SENT;
  const body = Buffer.from(out.body, 'utf8');
  res.writeHead(out.status, {
    ...out.headers,
    ...extra,
    'Content-Type': out.contentType,
    'Content-Length': String(body.length),
  });
  res.end(body);
  return out.status;
}

/**
 * A whole HTTP/1.1 response as bytes, for writing to a bare socket: with Date (RFC 9110 §6.6.1, as
 * node:http adds to every other response) and Connection: close.
 */
export function renderRaw(reply: Reply, extra: Headers): { status: number; bytes: Buffer } {
  const out = render(reply);
  const body = Buffer.from(out.body, 'utf8');
  const headers: Record<string, string> = { ...out.headers, ...extra, 'Content-Type': out.contentType, 'Content-Length': String(body.length), Date: new Date().toUTCString(), Connection: 'close' };
  let head = `HTTP/1.1 ${out.status} ${STATUS_CODES[out.status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return { status: out.status, bytes: Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]) };
}

// The only writer of responses: status, headers and body for every reply the app produces.
import type { ServerResponse } from 'node:http';
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

/** Writes the reply and returns the status sent. HEAD responses carry the headers of GET, no body. */
export function send(res: ServerResponse, reply: Reply, extra: Headers): number {
  const out = render(reply);
  if (res.headersSent || res.destroyed) return out.status;
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

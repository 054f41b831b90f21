// What node:http's parser lets through but RFC 9112 does not, checked once per request before
// routing. node:http (llhttp) already refuses Content-Length together with Transfer-Encoding,
// differing or repeated Content-Lengths, obs-fold and a coding after chunked; these are the rest.
// Any of them → 400 and the connection closes (errors.ts `bad_request`).
import { isIPv6 } from 'node:net';

export type RequestHead = {
  method?: string | undefined;
  url?: string | undefined;
  httpVersionMajor: number;
  httpVersionMinor: number;
  headers: { 'transfer-encoding'?: string | undefined };
  rawHeaders: readonly string[];
};

export type Target = { ok: true; path: string; query: string } | { ok: false };

const BAD: Target = { ok: false };

// RFC 3986 §3.2.2 reg-name or IPv4address (sub-delims, unreserved, pct-encoded), then an optional port.
const REG_NAME_HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?::[0-9]*)?$/;
const IP_LITERAL_HOST = /^\[([^\]]*)\](?::[0-9]*)?$/;
const IP_FUTURE = /^v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;
// RFC 9112 §3.2.2 absolute-form (http or https only), split into authority, path and query.
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i;

/** RFC 9112 §3.2 / RFC 3986 §3.2.2: uri-host [":" port], no userinfo; empty is allowed. */
export function validHost(value: string): boolean {
  const literal = IP_LITERAL_HOST.exec(value);
  if (literal !== null) {
    const inner = literal[1] ?? '';
    return isIPv6(inner) || IP_FUTURE.test(inner);
  }
  return REG_NAME_HOST.test(value);
}

/** The Host field lines of a request: node:http keeps only the first in req.headers. */
function hostLines(rawHeaders: readonly string[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length === 4 && name.toLowerCase() === 'host') found.push(rawHeaders[i + 1] ?? '');
  }
  return found;
}

function split(target: string, from: number): { path: string; query: string } {
  const q = target.indexOf('?', from);
  return q === -1 ? { path: target.slice(from), query: '' } : { path: target.slice(from, q), query: target.slice(q + 1) };
}

/** Checks framing, Host and the request-target; returns the path (and query) to route by. */
export function checkRequestHead(head: RequestHead): Target {
  // Only HTTP/1.0 and 1.1 (node:http hands over 0.9 and 2.0 request lines too).
  if (head.httpVersionMajor !== 1 || (head.httpVersionMinor !== 0 && head.httpVersionMinor !== 1)) return BAD;
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty. chunked is the only
    // coding the service understands; anything else (identity, xchunked, gzip) cannot be framed.
    if (head.httpVersionMinor === 0) return BAD;
    if (te.trim().toLowerCase() !== 'chunked') return BAD;
  }
  // RFC 9112 §3.2: a 400 for no Host in HTTP/1.1, more than one Host line, or an invalid value.
  const hosts = hostLines(head.rawHeaders);
  if (hosts.length > 1 || (hosts.length === 0 && head.httpVersionMinor === 1)) return BAD;
  if (hosts.length === 1 && !validHost((hosts[0] ?? '').trim())) return BAD;

  const target = head.url ?? '';
  if (target.startsWith('/')) return { ok: true, ...split(target, 0) };
  // RFC 9112 §3.2.2: absolute-form is routed by its path; the Host header is then ignored.
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute !== null) {
    const authority = absolute[1] ?? '';
    if (authority === '' || authority.includes('@') || !validHost(authority)) return BAD;
    const path = absolute[2] === '' ? '/' : (absolute[2] ?? '/');
    return { ok: true, path, query: absolute[3] ?? '' };
  }
  // asterisk-form is for OPTIONS, which no route serves: it matches nothing (404).
  if (target === '*' && head.method === 'OPTIONS') return { ok: true, path: '*', query: '' };
  // authority-form (CONNECT host:port) and anything else: this is an origin server, not a proxy.
  return BAD;
}

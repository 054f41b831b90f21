import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequestHead, validHost, type RequestHead } from '../../src/http/framing.ts';

function head(overrides: Partial<RequestHead> & { raw?: string[] } = {}): RequestHead {
  const raw = overrides.raw ?? ['Host', 'example.com'];
  return { method: 'GET', url: '/messages?limit=1', httpVersionMajor: 1, httpVersionMinor: 1, headers: {}, rawHeaders: raw, ...overrides };
}

test('origin-form targets route by path and query', () => {
  assert.deepEqual(checkRequestHead(head()), { ok: true, path: '/messages', query: 'limit=1' });
  assert.deepEqual(checkRequestHead(head({ url: '/health/live' })), { ok: true, path: '/health/live', query: '' });
});

test('absolute-form targets route by their path (RFC 9112 §3.2.2), whatever the Host header says', () => {
  assert.deepEqual(checkRequestHead(head({ url: 'http://127.0.0.1:8000/health/live' })), { ok: true, path: '/health/live', query: '' });
  assert.deepEqual(checkRequestHead(head({ url: 'HTTPS://api.example/messages?q=a' })), { ok: true, path: '/messages', query: 'q=a' });
  assert.deepEqual(checkRequestHead(head({ url: 'http://[::1]:8000' })), { ok: true, path: '/', query: '' });
  for (const url of ['http://user@host/messages', 'http:///messages', 'ftp://host/messages', 'http://bad host/', 'http://[::1/']) {
    assert.deepEqual(checkRequestHead(head({ url })), { ok: false }, url);
  }
});

test('authority-form and other targets are refused; asterisk-form only with OPTIONS', () => {
  assert.deepEqual(checkRequestHead(head({ method: 'CONNECT', url: '127.0.0.1:80' })), { ok: false });
  assert.deepEqual(checkRequestHead(head({ url: 'messages' })), { ok: false });
  assert.deepEqual(checkRequestHead(head({ url: '*' })), { ok: false });
  assert.deepEqual(checkRequestHead(head({ method: 'OPTIONS', url: '*' })), { ok: true, path: '*', query: '' });
});

test('Host: exactly one valid line in HTTP/1.1; at most one in HTTP/1.0 (RFC 9112 §3.2)', () => {
  assert.deepEqual(checkRequestHead(head({ raw: [] })), { ok: false });
  assert.deepEqual(checkRequestHead(head({ raw: ['Host', 'a', 'host', 'b'] })), { ok: false });
  assert.deepEqual(checkRequestHead(head({ raw: ['Host', 'a', 'HOST', 'a'] })), { ok: false });
  assert.equal(checkRequestHead(head({ raw: [], httpVersionMinor: 0 })).ok, true);
  assert.equal(checkRequestHead(head({ raw: ['Host', 'a', 'Host', 'b'], httpVersionMinor: 0 })).ok, false);
  for (const bad of ['bad host', 'a/b', 'x@evil.example', '[::1', '[::1]x', 'a:b:c', 'é.example', 'a?b', '[zz::1]']) {
    assert.equal(validHost(bad), false, bad);
    assert.deepEqual(checkRequestHead(head({ raw: ['Host', bad] })), { ok: false }, bad);
  }
  for (const good of ['', 'example.com', 'example.com:8000', '127.0.0.1', '127.0.0.1:', '[::1]', '[::1]:8000', '[v1.fe]', 'a%20b', "x!$&'()*+,;=.y"]) {
    assert.equal(validHost(good), true, good);
  }
});

test('Transfer-Encoding: only chunked, and never in HTTP/1.0 (RFC 9112 §6.1)', () => {
  assert.equal(checkRequestHead(head({ headers: { 'transfer-encoding': 'chunked' } })).ok, true);
  assert.equal(checkRequestHead(head({ headers: { 'transfer-encoding': 'Chunked ' } })).ok, true);
  for (const te of ['identity', 'xchunked', 'gzip, chunked', 'chunked, gzip', '']) {
    assert.deepEqual(checkRequestHead(head({ headers: { 'transfer-encoding': te } })), { ok: false }, te);
  }
  assert.deepEqual(checkRequestHead(head({ httpVersionMinor: 0, headers: { 'transfer-encoding': 'chunked' } })), { ok: false });
});

test('only HTTP/1.0 and HTTP/1.1', () => {
  assert.equal(checkRequestHead(head({ httpVersionMinor: 0 })).ok, true);
  assert.equal(checkRequestHead(head({ httpVersionMajor: 0, httpVersionMinor: 9, raw: [] })).ok, false);
  assert.equal(checkRequestHead(head({ httpVersionMajor: 2, httpVersionMinor: 0 })).ok, false);
});

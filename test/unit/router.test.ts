import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter } from '../../src/http/router.ts';

const router = createRouter<string>({
  '/webhook': { POST: 'webhook' },
  '/messages': { GET: 'messages' },
  '/health/live': { GET: 'live' },
  '/both': { GET: 'both-get', DELETE: 'both-delete' },
  '/own-head': { GET: 'g', HEAD: 'h' },
});

test('found', () => {
  assert.deepEqual(router.match('POST', '/webhook'), { kind: 'found', route: '/webhook', handler: 'webhook' });
  assert.deepEqual(router.match('GET', '/messages'), { kind: 'found', route: '/messages', handler: 'messages' });
  assert.deepEqual(router.match('GET', '/health/live'), { kind: 'found', route: '/health/live', handler: 'live' });
});

test('HEAD is served by the GET handler', () => {
  assert.deepEqual(router.match('HEAD', '/messages'), { kind: 'found', route: '/messages', handler: 'messages' });
  assert.deepEqual(router.match('HEAD', '/health/live'), { kind: 'found', route: '/health/live', handler: 'live' });
});

test('an explicit HEAD handler is kept', () => {
  assert.deepEqual(router.match('HEAD', '/own-head'), { kind: 'found', route: '/own-head', handler: 'h' });
});

test('HEAD is not allowed where GET is not', () => {
  assert.deepEqual(router.match('HEAD', '/webhook'), { kind: 'method_not_allowed', route: '/webhook', allow: 'POST' });
});

test('not found', () => {
  for (const path of ['/', '/nope', '/messages/', '/Messages', '/webhook/extra', '/health', '']) {
    assert.deepEqual(router.match('GET', path), { kind: 'not_found' }, path);
  }
});

test('method not allowed lists the allowed methods, HEAD included for GET routes', () => {
  assert.deepEqual(router.match('POST', '/messages'), { kind: 'method_not_allowed', route: '/messages', allow: 'GET, HEAD' });
  assert.deepEqual(router.match('DELETE', '/health/live'), { kind: 'method_not_allowed', route: '/health/live', allow: 'GET, HEAD' });
  assert.deepEqual(router.match('GET', '/webhook'), { kind: 'method_not_allowed', route: '/webhook', allow: 'POST' });
  const both = router.match('PUT', '/both');
  assert.equal(both.kind, 'method_not_allowed');
  if (both.kind === 'method_not_allowed') assert.deepEqual(both.allow.split(', ').sort(), ['DELETE', 'GET', 'HEAD']);
});

test('methods are matched exactly (node:http upper-cases them)', () => {
  assert.equal(router.match('get', '/messages').kind, 'method_not_allowed');
});

test('routes inherited from Object.prototype are not found', () => {
  assert.deepEqual(router.match('GET', 'constructor'), { kind: 'not_found' });
  assert.deepEqual(router.match('GET', '__proto__'), { kind: 'not_found' });
  assert.equal(router.match('toString', '/messages').kind, 'method_not_allowed');
});

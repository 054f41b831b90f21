// ErrorResponse fields → PgError: SQLSTATE kept, classified once, safe fields for logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgError, classifySqlstate, serverError } from '../../src/storage/postgres/errors.ts';

test('SQLSTATEs are classified into the kinds callers act on', () => {
  const table: [string, string][] = [
    ['23505', 'unique_violation'],
    ['40001', 'serialization'],
    ['40P01', 'serialization'],
    ['57014', 'canceled'],
    ['55P03', 'canceled'],
    ['25006', 'read_only'],
    ['53100', 'disk_full'],
    ['58030', 'disk_full'],
    ['28P01', 'auth'],
    ['28000', 'auth'],
    ['08006', 'connection'],
    ['08P01', 'connection'],
    ['57P01', 'connection'],
    ['57P02', 'connection'],
    ['57P03', 'connection'],
    ['42601', 'query'],
    ['23503', 'query'],
    ['22012', 'query'],
    ['XX000', 'query'],
  ];
  for (const [code, kind] of table) assert.equal(classifySqlstate(code), kind, code);
});

test('serverError keeps the SQLSTATE, severity (non-localized V first) and the named fields', () => {
  const e = serverError({ S: 'ERREUR', V: 'ERROR', C: '23505', M: 'duplicate key value violates unique constraint "m_pkey"', D: 'Key (id)=(secret-id) already exists.', n: 'm_pkey', t: 'm', R: '_bt_check_unique' });
  assert.ok(e instanceof PgError && e instanceof Error);
  assert.deepEqual([e.kind, e.sqlstate, e.severity, e.constraint, e.table, e.routine, e.detail], ['unique_violation', '23505', 'ERROR', 'm_pkey', 'm', '_bt_check_unique', 'Key (id)=(secret-id) already exists.']);
  assert.equal(e.message, 'duplicate key value violates unique constraint "m_pkey"');
  // The detail repeats row data: never among the fields meant for logs.
  assert.deepEqual(e.logFields(), { kind: 'unique_violation', sqlstate: '23505', constraint: 'm_pkey' });
  assert.doesNotMatch(JSON.stringify(e.logFields()), /secret-id/);
});

test('an ErrorResponse without code, severity or message still gives a usable error', () => {
  const e = serverError({});
  assert.deepEqual([e.kind, e.sqlstate, e.severity], ['query', 'XX000', 'ERROR']);
  assert.ok(e.message.length > 0);
});

test('client-side errors have no SQLSTATE and keep their cause', () => {
  const cause = new Error('ECONNREFUSED');
  const e = new PgError('connection', 'cannot connect', { cause });
  assert.deepEqual([e.kind, e.sqlstate, e.cause], ['connection', null, cause]);
  assert.deepEqual(e.logFields(), { kind: 'connection' });
});

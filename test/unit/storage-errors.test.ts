import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStorageFault, RowError, unwrap } from '../../src/storage/sqlite/errors.ts';

const sqliteError = (errcode: number): Error => Object.assign(new Error('x'), { errcode });

test('full, read-only, I/O and corrupt databases are storage faults; locks and refused rows are not', () => {
  for (const code of [13, 8, 10, 10 | (3 << 8), 11, 14, 26, 3]) assert.equal(isStorageFault(sqliteError(code)), true, `code ${code}`);
  for (const code of [5, 6, 5 | (1 << 8), 19, 1]) assert.equal(isStorageFault(sqliteError(code)), false, `code ${code}`);
  assert.equal(isStorageFault(new Error('no code')), false);
  assert.equal(isStorageFault('not an error'), false);
});

test('a RowError carries the statement error it wraps', () => {
  const inner = sqliteError(19);
  assert.equal(unwrap(new RowError(inner)), inner);
  assert.equal(unwrap(inner), inner);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createLineBuffer } from '../../src/log/line-buffer.ts';

test('lines written in one turn reach the sink as one chunk, in order, at the end of the turn', async () => {
  const chunks: string[] = [];
  const out = createLineBuffer((chunk) => chunks.push(chunk));
  out.write('a\n');
  out.write('b\n');
  assert.deepEqual(chunks, []);
  await nextTurn();
  assert.deepEqual(chunks, ['a\nb\n']);
  out.write('c\n');
  await nextTurn();
  assert.deepEqual(chunks, ['a\nb\n', 'c\n']);
});

test('flush writes what is buffered at once and nothing twice', async () => {
  const chunks: string[] = [];
  const out = createLineBuffer((chunk) => chunks.push(chunk));
  out.write('last words\n');
  out.flush();
  assert.deepEqual(chunks, ['last words\n']);
  await nextTurn();
  out.flush();
  assert.deepEqual(chunks, ['last words\n']);
});

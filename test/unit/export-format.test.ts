import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, FORMATS, formatRows } from '../../src/messages/export-format.ts';
import { encodePieces, joinPieces, PIECE_CHARS } from '../../src/messages/pieces.ts';
import { parseCsv } from '../helpers/csv.ts';

const row = (text: string | null, id = 'm1') => ({ message_id: id, from: '+1555', to: '+1666', ts: '2025-01-15T10:00:00Z', text });

test('CSV fields are quoted only when RFC 4180 needs it, with quotes doubled', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(' spaced '), ' spaced ');
  assert.equal(csvField('=SUM(A1)'), '=SUM(A1)', 'no formula guard: the export is data');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('a\nb'), '"a\nb"');
  assert.equal(csvField('a\rb'), '"a\rb"');
  assert.equal(csvField(''), '""');
  assert.equal(csvField(null), '');
});

test('hostile texts round-trip through a strict RFC 4180 parser; NULL and "" stay apart', () => {
  const texts = ['', null, ',', '"', '""', '\r', '\n', '\r\n', 'a,"b"\r\nc', ' x ', 'é中👍', 'tab\t', '\u2028'];
  const rows = texts.map((text, i) => row(text, `id,${i}"`));
  const records = parseCsv(FORMATS.csv.header + formatRows('csv', rows));
  assert.equal(records.length, rows.length + 1);
  records.slice(1).forEach((r, i) => {
    assert.deepEqual(r.map((f) => f.value).slice(0, 4), [rows[i]?.message_id, '+1555', '+1666', '2025-01-15T10:00:00Z']);
    const text = r[4];
    assert.equal(text?.value === '' && !text.quoted ? null : text?.value, texts[i]);
  });
});

test('NDJSON is one object per line with exactly the five fields', () => {
  const out = formatRows('ndjson', [row('line\nbreak\r\u2028'), row(null, 'm2')]);
  const lines = out.split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.deepEqual(JSON.parse(lines[0] ?? ''), row('line\nbreak\r\u2028'));
  assert.deepEqual(Object.keys(JSON.parse(lines[1] ?? '')), ['message_id', 'from', 'to', 'ts', 'text']);
  assert.equal(formatRows('ndjson', []), '');
});

test('output is joined into pieces of about 32 KB (none in V8\'s large-object space), in order', () => {
  const parts = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'é'.repeat(i % 50)}\n`);
  const pieces = joinPieces(parts);
  assert.equal(pieces.join(''), parts.join(''));
  assert.ok(pieces.length > 1);
  assert.ok(pieces.every((p) => p.length <= PIECE_CHARS));
  assert.deepEqual(joinPieces(['x'.repeat(PIECE_CHARS * 2), 'y']), ['x'.repeat(PIECE_CHARS * 2), 'y'], 'a long part is a piece alone');
  assert.deepEqual(joinPieces([]), []);
  assert.equal(encodePieces(parts).toString('utf8'), parts.join(''));
});

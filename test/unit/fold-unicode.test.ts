// foldText against full Unicode case folding, for every code point. The data file is Unicode's own
// CaseFolding.txt, committed under test/fixtures/unicode/ (no network in CI), of the Unicode version
// that Node's ICU implements: a Node upgrade that moves Unicode on fails here until the file is
// replaced by the matching one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { foldText } from '../../src/domain/fold.ts';

const FILE = join(import.meta.dirname, '..', 'fixtures', 'unicode', 'CaseFolding-17.0.0.txt');
// The published file's SHA-256, so an edited copy cannot pass for Unicode's.
const SHA256 = 'ff8d8fefbf123574205085d6714c36149eb946d717a0c585c27f0f4ef58c4183';

const bytes = readFileSync(FILE);
const text = bytes.toString('utf8');

/** Statuses C and F: the full case folding (S is the simple one, T the Turkic variant). */
function fullFolding(): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9A-F]{4,6}); ([CFST]); ([0-9A-F ]+); #/.exec(line);
    if (m === null || (m[2] !== 'C' && m[2] !== 'F')) continue;
    const to = (m[3] ?? '').trim().split(' ').map((h) => Number.parseInt(h, 16));
    map.set(Number.parseInt(m[1] ?? '', 16), String.fromCodePoint(...to));
  }
  return map;
}

const folding = fullFolding();
const caseFold = (s: string): string => {
  let out = '';
  for (const ch of s) out += folding.get(ch.codePointAt(0) ?? 0) ?? ch;
  return out;
};
/** What a search fold must give: canonical caseless form (D145: fold of NFD), composed again to NFC. */
const expected = (s: string): string => caseFold(s.normalize('NFD')).normalize('NFC');

function* everyCodePoint(): Generator<number> {
  for (let cp = 0; cp <= 0x10ffff; cp += 1) if (cp < 0xd800 || cp > 0xdfff) yield cp;
}

const hex = (s: string): string => [...s].map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`).join(' ');

test('the data file is Unicode\'s CaseFolding.txt of the Unicode version Node implements', () => {
  assert.equal(createHash('sha256').update(bytes).digest('hex'), SHA256);
  const version = /^# CaseFolding-([0-9]+\.[0-9]+)\.[0-9]+\.txt/.exec(text)?.[1];
  assert.equal(version, process.versions.unicode, 'replace the file with the CaseFolding.txt of Node\'s Unicode version');
  assert.ok(folding.size > 1_400, `${folding.size} mappings read`);
});

test('foldText is full Unicode case folding (C + F) in NFC, for every code point', () => {
  const wrong: string[] = [];
  for (const cp of everyCodePoint()) {
    const ch = String.fromCodePoint(cp);
    const got = foldText(ch);
    const want = expected(ch);
    if (got !== want) wrong.push(`${hex(ch)} → ${hex(got)}, expected ${hex(want)}`);
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} code points fold wrongly`);
});

test('foldText is idempotent, and a character and its folding fold alike, for every code point', () => {
  const wrong: string[] = [];
  for (const cp of everyCodePoint()) {
    const ch = String.fromCodePoint(cp);
    const once = foldText(ch);
    if (foldText(once) !== once) wrong.push(`${hex(ch)}: not idempotent`);
    const mapped = folding.get(cp);
    if (mapped !== undefined && foldText(mapped) !== once) wrong.push(`${hex(ch)} and its folding ${hex(mapped)} differ`);
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} problems`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldText } from '../../src/domain/fold.ts';

/** What the store does with q: fold both sides, then a plain substring test. */
function matches(text: string, q: string): boolean {
  return foldText(text).includes(foldText(q));
}

test('É and é fold alike', () => {
  assert.equal(foldText('É'), foldText('é'));
  assert.equal(foldText('CAFÉ'), 'café');
  assert.equal(matches('Un CAFÉ noir', 'café'), true);
  assert.equal(matches('un café noir', 'CAFÉ'), true);
});

test('ß and SS fold alike', () => {
  assert.equal(foldText('ß'), foldText('SS'));
  assert.equal(foldText('ß'), foldText('ss'));
  assert.equal(matches('STRASSE', 'straße'), true);
  assert.equal(matches('Straße', 'STRASSE'), true);
});

test('Σ, σ and ς fold alike on their own', () => {
  assert.equal(foldText('Σ'), foldText('σ'));
  assert.equal(foldText('ς'), foldText('σ'));
});

test('Σ, σ and ς fold alike inside words', () => {
  assert.equal(foldText('ΟΔΟΣ'), foldText('οδος'));
  assert.equal(foldText('ΟΔΟΣ'), foldText('οδοσ'));
  assert.equal(matches('ΟΔΟΣ', 'οδος'), true);
  assert.equal(matches('οδος', 'ΟΔΟΣ'), true);
});

test('a sigma at the end of the query matches a sigma inside a word', () => {
  // The query "ΟΣ" ends in a sigma, the text "ΟΣΟ" has it mid-word: a substring either way,
  // whatever the case, so a case-insensitive search must find it.
  assert.equal(matches('ΟΣΟ', 'ΟΣ'), true);
  assert.equal(matches('όσο', 'όσ'), true);
  assert.equal(matches('ΜΕΣΑ', 'μεσ'), true);
});

test('composed and decomposed é fold alike', () => {
  const composed = '\u00e9';
  const decomposed = 'e\u0301';
  assert.notEqual(composed, decomposed);
  assert.equal(foldText(composed), foldText(decomposed));
  assert.equal(foldText('E\u0301'), foldText(composed));
  assert.equal(matches(`caf${decomposed}`, `CAF${composed}`), true);
  assert.equal(matches(`caf${composed}`, `caf${decomposed}`), true);
});

test('ASCII folds to lower case and different letters stay different', () => {
  assert.equal(foldText('Hello World'), 'hello world');
  assert.notEqual(foldText('a'), foldText('b'));
  assert.equal(matches('Hello', 'xyz'), false);
});

test('% and _ are ordinary characters', () => {
  assert.equal(foldText('100%_OFF'), '100%_off');
  assert.equal(matches('100%_off', '%_'), true);
  assert.equal(matches('100 off', '%'), false);
});

test('ẞ (U+1E9E) and ß fold alike, either way', () => {
  assert.equal(foldText('ẞ'), foldText('ß'));
  assert.equal(foldText('ẞ'), 'ss');
  assert.equal(matches('GROẞE', 'große'), true);
  assert.equal(matches('große', 'GROẞE'), true);
  assert.equal(matches('STRAẞE', 'strasse'), true);
});

test('ı (dotless i) folds to itself, as full case folding says; İ folds to i + dot above', () => {
  assert.equal(foldText('ı'), 'ı');
  assert.notEqual(foldText('ı'), foldText('I'));
  assert.equal(foldText('KıSA'), 'kısa');
  assert.equal(foldText('İ'), 'i\u0307');
});

test('Cherokee small and capital letters fold alike (to the capitals)', () => {
  assert.equal(foldText('\uAB70'), '\u13A0');
  assert.equal(foldText('\u13F8'), '\u13F0');
  assert.equal(matches('\u13A0\u13A1', '\uAB70\uAB71'), true);
});

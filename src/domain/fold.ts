// Case-insensitive search for all of Unicode: both the stored text and the query are folded the
// same way and compared as plain substrings (SQLite's LIKE/lower() only fold ASCII). The result is
// full Unicode case folding (CaseFolding.txt, statuses C and F) in NFC, which
// test/unit/fold.test.ts checks for every code point against the Unicode data file of the Unicode
// version Node's ICU implements.
//
// Upper-then-lower gives full case folding for all but a few characters, which are fixed here:
// - ς folds to σ (toLowerCase picks final sigma by position: ΟΣ→ος but ΟΣΟ→οσο);
// - ẞ (U+1E9E) folds to "ss" like ß, but toUpperCase keeps it, so toLowerCase gives ß;
// - ı (U+0131) folds to itself, while toUpperCase makes it I (so it would match i);
// - Cherokee folds to its capital letters (U+13A0…), the opposite of toLowerCase.
// https://www.unicode.org/Public/17.0.0/ucd/CaseFolding.txt

const AFTER_LOWER = /[ßς\u13F8-\u13FD\uAB70-\uABBF]/g;
const DOTLESS_I = 'ı';

function fixAfterLower(ch: string): string {
  if (ch === 'ß') return 'ss';
  if (ch === 'ς') return 'σ';
  return ch.toUpperCase(); // Cherokee small letter → the capital that CaseFolding.txt maps it to
}

function foldCase(text: string): string {
  const lowered = text.toUpperCase().toLowerCase();
  AFTER_LOWER.lastIndex = 0;
  return AFTER_LOWER.test(lowered) ? lowered.replace(AFTER_LOWER, fixAfterLower) : lowered;
}

export function foldText(text: string): string {
  const nfc = text.normalize('NFC');
  const folded = nfc.includes(DOTLESS_I) ? nfc.split(DOTLESS_I).map(foldCase).join(DOTLESS_I) : foldCase(nfc);
  return folded.normalize('NFC');
}

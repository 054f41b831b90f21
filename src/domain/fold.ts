// Case-insensitive search for all of Unicode: both the stored text and the query are folded the
// same way and compared as plain substrings (SQLite's LIKE/lower() only fold ASCII). Upper-then-lower
// approximates full case folding (ß→ss, ς→σ, K→k); NFC makes composed and decomposed accents equal.

export function foldText(text: string): string {
  return text.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

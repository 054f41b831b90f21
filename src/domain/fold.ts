// Case-insensitive search for all of Unicode: both the stored text and the query are folded the
// same way and compared as plain substrings (SQLite's LIKE/lower() only fold ASCII). Upper-then-lower
// approximates full case folding (ß→ss, K→k); NFC makes composed and decomposed accents equal.
// toLowerCase() picks final sigma by position (ΟΣ→ος but ΟΣΟ→οσο), so ς is folded to σ afterwards,
// as Unicode case folding does (CaseFolding.txt: 03C2; C; 03C3).

export function foldText(text: string): string {
  return text.normalize('NFC').toUpperCase().toLowerCase().replaceAll('ς', 'σ').normalize('NFC');
}

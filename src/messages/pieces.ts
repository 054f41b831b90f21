// Output in pieces of about 32 KB. A string over 128 KiB goes to V8's large-object space, which only
// a full garbage collection frees: an export that joined each page into one string measured 455 MiB
// of RSS at 1M rows, nearly all of it dead strings waiting for that collection. Pieces this size
// die young and are collected as they go, so memory stays flat however long the body.
export const PIECE_CHARS = 32 * 1024;

/** The parts joined, in order, into pieces of at most about `max` characters (a longer part is a piece alone). */
export function joinPieces(parts: Iterable<string>, max: number = PIECE_CHARS): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const part of parts) {
    if (current.length > 0 && current.length + part.length > max) {
      pieces.push(current);
      current = '';
    }
    current += part;
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}

/** The parts as one UTF-8 buffer (outside the JS heap), built piece by piece. */
export function encodePieces(parts: Iterable<string>): Buffer {
  const buffers = joinPieces(parts).map((piece) => Buffer.from(piece, 'utf8'));
  return buffers.length === 1 ? (buffers[0] ?? Buffer.alloc(0)) : Buffer.concat(buffers);
}

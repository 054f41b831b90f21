// Reads a request body once, never holding more than `limit` bytes: a declared Content-Length over
// the limit is refused before reading; a streamed (chunked) body is counted as it arrives.
// After a refusal the rest of the body is read and dropped (up to DRAIN_CAP), so a client that is
// still sending can read its 413 instead of seeing a reset; beyond that the connection is cut.
import type { IncomingMessage } from 'node:http';

export const DRAIN_CAP = 16 * 1024 * 1024;

export type BodyResult =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'too_large'; closeConnection: boolean }
  | { ok: false; reason: 'incomplete' };

function discardRest(req: IncomingMessage): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_CAP) req.socket.destroy();
  });
  req.resume();
}

export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    discardRest(req);
    return Promise.resolve({ ok: false, reason: 'too_large', closeConnection: declared - limit > DRAIN_CAP });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', collect);
      chunks.length = 0;
      resolve(result);
    };
    function collect(chunk: Buffer): void {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        settle({ ok: false, reason: 'too_large', closeConnection: false });
        discardRest(req);
      }
    }
    req.on('data', collect);
    req.on('end', () => settle({ ok: true, bytes: Buffer.concat(chunks, size) }));
    req.on('error', () => settle({ ok: false, reason: 'incomplete' }));
    req.on('close', () => settle({ ok: false, reason: 'incomplete' }));
  });
}

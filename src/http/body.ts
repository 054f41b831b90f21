// Reads a request body once, never holding more than `limit` bytes, and holding them once: with a
// Content-Length the bytes are copied into one buffer of that size as they arrive (the socket's
// chunks are let go at once); a chunked body is counted as it arrives and joined at the end.
// A declared Content-Length over the limit is refused before reading. After a refusal the rest of
// the body is read and dropped (up to DRAIN_CAP), so a client that is still sending can read its
// 413 instead of seeing a reset; beyond that the connection is cut.
// With a gate (body-gate.ts), a body that has not fully arrived with its headers must get a place
// there to be read: how signed routes bound the uploads that reach them before their signature is
// checked.
import type { IncomingMessage } from 'node:http';
import type { BodyGate, CutReason, Ticket } from './body-gate.ts';

export const DRAIN_CAP = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export type BodyResult =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'too_large'; closeConnection: boolean }
  /** The client went away (reset or EOF) before the body was complete. */
  | { ok: false; reason: 'incomplete' }
  /** The framing broke mid-body (a bad chunk): RFC 9112 says 400 and close. */
  | { ok: false; reason: 'bad_framing' }
  /** Cut by the gate (too slow: deadline, or the oldest when room was needed) or the request timeout. */
  | { ok: false; reason: 'timeout'; cut: CutReason | 'request_timeout' }
  /** No place at the gate. */
  | { ok: false; reason: 'busy' };

function discardRest(req: IncomingMessage): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_CAP) req.socket.destroy();
  });
  req.resume();
}

function failureOf(err: NodeJS.ErrnoException): BodyResult {
  const code = err.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { ok: false, reason: 'timeout', cut: 'request_timeout' };
  if (code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE') return { ok: false, reason: 'bad_framing' };
  return { ok: false, reason: 'incomplete' };
}

export function readBody(req: IncomingMessage, limit: number, gate?: BodyGate): Promise<BodyResult> {
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) {
    discardRest(req);
    return Promise.resolve({ ok: false, reason: 'too_large', closeConnection: declared - limit > DRAIN_CAP });
  }
  return new Promise((resolve) => {
    // node:http has checked Content-Length is digits only; chunked bodies have none. The buffer is
    // made when the first bytes are read, not while the body waits at the gate.
    let whole: Buffer | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let ticket: Ticket | null = null;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      ticket?.release();
      req.removeListener('data', collect);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
      chunks.length = 0;
      resolve(result);
    };
    function collect(chunk: Buffer): void {
      if (size + chunk.length > limit) {
        settle({ ok: false, reason: 'too_large', closeConnection: false });
        discardRest(req);
        return;
      }
      if (declared !== undefined) {
        whole ??= Buffer.allocUnsafe(declared);
        chunk.copy(whole, size);
      } else chunks.push(chunk);
      size += chunk.length;
      ticket?.progress(chunk.length);
    }
    const onEnd = (): void => settle({ ok: true, bytes: whole ?? Buffer.concat(chunks, size) });
    const onError = (err: NodeJS.ErrnoException): void => settle(failureOf(err));
    const onClose = (): void => settle({ ok: false, reason: 'incomplete' });
    const read = (): void => {
      if (!settled) req.on('data', collect);
    };
    // Listening at once: a framing error in the same packet as the headers is reported right away.
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    if (gate === undefined) {
      read();
      return;
    }
    // Once this turn's queued work has run, the parser has handed over the bytes that came with
    // the headers (node:http buffers them in req until they are read): a body that has fully
    // arrived needs no place at the gate. Any other waits there, its bytes left unread.
    queueMicrotask(() => {
      if (settled) return;
      // The usual delivery: the whole body came with the headers and waits in req's buffer. It is
      // taken in one read, without a 'data' listener or waiting a tick for 'end'.
      if (req.complete && req.readableLength <= limit) {
        const bytes: unknown = req.read();
        settle({ ok: true, bytes: Buffer.isBuffer(bytes) ? bytes : EMPTY });
        return;
      }
      if (req.complete || (declared !== undefined && req.readableLength >= declared)) {
        read();
        return;
      }
      ticket = gate.admit({
        reserve: declared ?? limit,
        buffered: () => req.readableLength,
        start: read,
        cut: (cut) => settle({ ok: false, reason: 'timeout', cut }),
      });
      if (ticket === null) settle({ ok: false, reason: 'busy' });
    });
  });
}

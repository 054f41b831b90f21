// Closing in stages (RFC 9112 §9.6) after a response that closes the connection while the client is
// still sending its body (a 401 or 503 answered before the body was read, a 408 at the body gate):
// node:http would destroy the socket as soon as its FIN is out, and the unread bytes make the
// kernel answer with a reset, which can wipe the response from the client's buffers before it is
// read (the client sees EPIPE or ECONNRESET instead of its 401). Instead the socket is half-closed
// and the rest of the request is read and dropped (node:http's own dump of an unread body) until
// the body is complete, the client closes, no byte came for `idleMs`, or `totalMs` have passed;
// then it is destroyed. Nothing read here is kept, and no body gate place is held. A shutdown does
// not wait for these: their response is written, so node:http's closeIdleConnections ends them.
// https://www.rfc-editor.org/rfc/rfc9112#section-9.6
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export type LingerOptions = { idleMs: number; totalMs: number };

/** A stalled client is let go after a second; one still sending gets up to five to finish. */
export const LINGER_DEFAULTS: LingerOptions = { idleMs: 1_000, totalMs: 5_000 };

function linger(req: IncomingMessage, socket: Socket, options: LingerOptions): void {
  if (socket.writable) socket.end();
  if (req.complete || socket.destroyed) {
    socket.destroy();
    return;
  }
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    clearTimeout(idle);
    clearTimeout(total);
    socket.destroy();
  };
  const idle = setTimeout(stop, options.idleMs);
  const total = setTimeout(stop, options.totalMs);
  // node:http dumps the unread body (its parser reads from the socket's handle, so the socket
  // itself emits no 'data'): each chunk it drops shows that the client is still sending.
  req.on('data', () => {
    if (!done) idle.refresh();
  });
  req.once('end', stop);
  socket.once('end', stop);
  socket.once('close', stop);
}

/** Before a closing response to `req` is written: its socket closes in stages if its body is still arriving. */
export function closeInStages(req: IncomingMessage, options: LingerOptions = LINGER_DEFAULTS): void {
  if (req.complete) return;
  const socket = req.socket;
  // node:http ends a connection whose response said "close" with socket.destroySoon() once the
  // response is written (_http_server.js, resOnFinish); this socket's is replaced by the staged close.
  socket.destroySoon = () => linger(req, socket, options);
}

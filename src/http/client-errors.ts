// node:http's 'clientError': the parser failed, or a request timed out. Every request line read
// gets exactly one response (RFC 9112 §6.3: a 400, then close) and one access-log line and count:
// - a request the app already holds (its headers were parsed) and has not answered: the app answers
//   it, with the status this error calls for (exchanges.ts), and its body reader stops waiting;
// - one the app has answered already (a 413 whose client then closed): nothing more is sent or
//   logged, the connection just closes;
// - anything else is a new message that never reached the app: answered here, after any response
//   still being written on the connection, as raw bytes rendered by respond.ts.
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from './errors.ts';
import type { Exchanges } from './exchanges.ts';
import { renderRaw } from './respond.ts';

export type AnsweredHere = { requestId: string; status: number; error: string };

export type ClientErrorDeps = {
  exchanges: Exchanges;
  newRequestId: () => string;
  /** One access-log line and count for a message answered here. */
  record: (answered: AnsweredHere) => void;
};

const CODES: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  // The client closed its side in the middle of a request.
  HPE_INVALID_EOF_STATE: 'incomplete_body',
};

export const errorCodeFor = (err: NodeJS.ErrnoException): ErrorCode => CODES[err.code ?? ''] ?? 'bad_request';

/** Runs `fn` once no response is being written on the socket (pipelined ones go first). */
function whenIdle(socket: Socket, fn: () => void): void {
  const pending: unknown = Reflect.get(socket, '_httpMessage');
  if (pending instanceof ServerResponse && !pending.writableFinished) pending.once('finish', () => whenIdle(socket, fn));
  else fn();
}

export function createClientErrorHandler(deps: ClientErrorDeps): (err: NodeJS.ErrnoException, socket: Socket) => void {
  const handled = new WeakSet<Socket>();

  const answer = (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const requestId = deps.newRequestId();
    const { status, bytes } = renderRaw(errorCodeFor(err), { 'X-Request-ID': requestId });
    socket.end(bytes);
    socket.destroySoon();
    deps.record({ requestId, status, error: err.code ?? 'unknown' });
  };

  return (err, socket) => {
    if (handled.has(socket)) {
      // The parser stays failed and reports again for every later packet: those are ignored. A
      // timeout now means what was to answer did not: close.
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.destroy();
      return;
    }
    handled.add(socket);
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const incoming: unknown = Reflect.get(Reflect.get(socket, 'parser') ?? {}, 'incoming');
    if (incoming instanceof IncomingMessage && !incoming.complete) {
      if (deps.exchanges.isAnswered(incoming)) {
        socket.destroy();
        return;
      }
      deps.exchanges.fail(incoming, errorCodeFor(err));
      incoming.emit('error', err); // a body reader settles (body.ts); the app then answers
      return;
    }
    whenIdle(socket, () => answer(err, socket));
  };
}

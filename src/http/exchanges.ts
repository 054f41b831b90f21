// What the connection-level error handler (client-errors.ts) and the app tell each other about a
// request already handed to the app: whether the app has answered it, and whether its framing broke
// afterwards (a bad chunk, the client's EOF, the request timeout), so the answer says so.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from './errors.ts';

export type Exchanges = {
  /** The app has written (or queued) its one response to `req`. */
  answered(req: IncomingMessage): void;
  isAnswered(req: IncomingMessage): boolean;
  /** The request's framing failed after it reached the app: it must be answered with `code`. */
  fail(req: IncomingMessage, code: ErrorCode): void;
  failure(req: IncomingMessage): ErrorCode | undefined;
  /**
   * A response that closes the connection was sent on `socket`: requests pipelined after it are
   * not processed (RFC 9112 §9.6), so a smuggled request behind a faulty one is never served.
   */
  closing(socket: Socket): void;
  isClosing(socket: Socket): boolean;
};

export function createExchanges(): Exchanges {
  const answered = new WeakSet<IncomingMessage>();
  const failed = new WeakMap<IncomingMessage, ErrorCode>();
  const closing = new WeakSet<Socket>();
  return {
    answered: (req) => void answered.add(req),
    isAnswered: (req) => answered.has(req),
    fail: (req, code) => void failed.set(req, code),
    failure: (req) => failed.get(req),
    closing: (socket) => void closing.add(socket),
    isClosing: (socket) => closing.has(socket),
  };
}

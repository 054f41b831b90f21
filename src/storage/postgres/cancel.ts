// CancelRequest: a new connection that carries only the target backend's key, then closes.
// It goes through the same TLS negotiation as the connection it cancels (as libpq 17's
// PQcancelCreate does), so the key never crosses the network in plaintext when sslmode says TLS.
// https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
import { openTransport, type TransportOptions } from './transport.ts';
import type { PgConnectionConfig } from './url.ts';
import { cancelRequest } from './wire/encode.ts';

/**
 * Sends the request unless `stillWanted()` turned false while connecting (the statement finished:
 * a late cancel would hit whatever runs next on that backend). Resolves true once the server has
 * read it and closed; the caller still watches its own connection to see the statement stop.
 */
export async function sendCancel(
  target: PgConnectionConfig,
  options: TransportOptions,
  pid: number,
  secretKey: Buffer,
  stillWanted: () => boolean,
): Promise<boolean> {
  const opened = await openTransport(target, options);
  if (!opened.ok) return false;
  const socket = opened.transport.socket;
  if (!stillWanted()) {
    socket.destroy();
    return false;
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, target.connectTimeoutMs);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
    socket.end(cancelRequest(pid, secretKey));
  });
}

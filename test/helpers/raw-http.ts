// One HTTP exchange over a raw TCP socket, for requests fetch() cannot send.
import assert from 'node:assert/strict';
import { connect } from 'node:net';

export type RawResponse = { status: number; headers: Record<string, string>; body: string };

export type RawExchangeOptions = {
  /**
   * Wait until the server closes the connection and return everything after the head as the body
   * (so extra bytes after the response show up). By default the exchange ends, and the socket is
   * destroyed, as soon as the first complete response (by Content-Length) has arrived.
   */
  untilClose?: boolean;
};

type Head = { status: number; headers: Record<string, string>; headBytes: number };

/** The status line and headers, once the blank line ending them has arrived. */
function parseHead(data: Buffer): Head | undefined {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...headerLines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const h of headerLines) {
    const colon = h.indexOf(':');
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, headBytes: end + 4 };
}

/** Writes `request` to 127.0.0.1:`port` (encoded as socket.write encodes a string) and reads one response. */
export function rawExchange(port: number, request: string, options: RawExchangeOptions = {}): Promise<RawResponse> {
  const untilClose = options.untilClose === true;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const settle = (fn: () => void): void => {
      if (done) return;
      done = true;
      fn();
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (untilClose) return;
      const head = parseHead(data);
      if (head === undefined) return;
      const length = Number(head.headers['content-length'] ?? NaN);
      const bodyBytes = data.subarray(head.headBytes);
      if (!Number.isFinite(length) || bodyBytes.length < length) return;
      settle(() => {
        socket.destroy();
        resolve({ status: head.status, headers: head.headers, body: bodyBytes.subarray(0, length).toString('utf8') });
      });
    });
    socket.on('error', (err) => settle(() => reject(err)));
    socket.on('close', () =>
      settle(() => {
        const raw = data.toString('latin1');
        if (!untilClose) {
          reject(new Error(`connection closed before a full response: ${JSON.stringify(raw)}`));
          return;
        }
        try {
          const head = parseHead(data);
          assert.ok(head !== undefined && head.headBytes > 4, `no HTTP response in ${JSON.stringify(data.toString('utf8'))}`);
          resolve({ status: head.status, headers: head.headers, body: data.subarray(head.headBytes).toString('utf8') });
        } catch (err) {
          reject(err);
        }
      }),
    );
    socket.write(request);
  });
}

// A whole conversation over one raw TCP socket, for the request shapes fetch() cannot send: writes
// the parts in order, then collects every byte until the server closes the connection (or the
// time runs out), and splits what arrived into responses.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export type Conversation = { raw: string; closedByServer: boolean; responses: ParsedResponse[]; connectMs: number };
export type ParsedResponse = { status: number; headers: Record<string, string>; body: string };

export type ConverseOptions = {
  /** Pause between parts (so each lands in its own packet). */
  gapMs?: number;
  /** Close our sending side after the last part. */
  halfClose?: boolean;
  /** Give up waiting for the server to close (then closedByServer is false). */
  timeoutMs?: number;
  /** Stop (and close our side) once this many complete responses have arrived. */
  responses?: number;
};

/** Splits bytes into HTTP/1.1 responses by Content-Length; a trailing partial one is dropped. */
export function parseResponses(raw: string): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = Buffer.from(rest.slice(end + 4), 'latin1');
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8') });
    rest = body.subarray(length).toString('latin1');
  }
  return out;
}

export function converse(port: number, parts: readonly (string | Buffer)[], options: ConverseOptions = {}): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let connectMs = -1;
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5_000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (options.responses !== undefined && parseResponses(Buffer.concat(chunks).toString('latin1')).length >= options.responses) socket.destroy();
    });
    socket.on('end', () => {
      closedByServer = true;
      socket.end();
    });
    socket.on('error', () => {
      closedByServer = true; // a reset from the server
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ raw, closedByServer, responses: parseResponses(raw), connectMs });
    });
    socket.once('connect', () => {
      connectMs = Math.round(performance.now() - started);
      void (async () => {
        for (const [i, part] of parts.entries()) {
          if (i > 0 && options.gapMs !== undefined) await sleep(options.gapMs);
          if (socket.destroyed) return;
          socket.write(part);
        }
        if (options.halfClose === true) socket.end();
      })().catch(reject);
    });
  });
}

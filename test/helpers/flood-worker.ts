// A flood of POST /webhook from a worker thread (so the test's own probes are not delayed by it):
// `connections` keep-alive connections, each sending its next request as soon as the answer to the
// last has arrived, for `durationMs`. Bodies are `bodyBytes` long; with `secret` they are valid
// signed messages (each with a new id), without it the signature is wrong. Posts the count of
// answers by status when done.
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

export type FloodSpec = { port: number; connections: number; bodyBytes: number; durationMs: number; secret?: string };
export type FloodResult = { statuses: Record<string, number>; errors: number };

const spec = workerData as FloodSpec;
const statuses: Record<string, number> = {};
let errors = 0;
let seq = 0;

function request(): Buffer {
  let body: string;
  if (spec.secret !== undefined) {
    seq += 1;
    const head = JSON.stringify({ message_id: `flood-${seq}`, from: '+14155550100', to: '+919876543210', ts: '2025-01-15T10:00:00Z', text: 'flood' });
    body = `${head.slice(0, -1)},"pad":"${'p'.repeat(Math.max(0, spec.bodyBytes - head.length - 9))}"}`;
  } else {
    body = `{"pad":"${'p'.repeat(Math.max(0, spec.bodyBytes - 10))}"}`;
  }
  const signature = spec.secret === undefined ? 'a'.repeat(64) : createHmac('sha256', spec.secret).update(body).digest('hex');
  return Buffer.from(`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Signature: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

const fixed = spec.secret === undefined ? request() : null;
const end = Date.now() + spec.durationMs;

function connection(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(spec.port, '127.0.0.1');
    let buffered = '';
    const next = (): void => {
      if (Date.now() >= end) {
        socket.destroy();
        return;
      }
      socket.write(fixed ?? request());
    };
    socket.on('connect', next);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const head = buffered.slice(0, headEnd);
        const length = headEnd + 4 + Number(/\r\ncontent-length: *([0-9]+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < length) return;
        const status = head.slice(9, 12);
        statuses[status] = (statuses[status] ?? 0) + 1;
        buffered = buffered.slice(length);
        if (/\r\nconnection: *close/i.test(head)) {
          socket.destroy();
          return;
        }
        next();
      }
    });
    socket.on('error', () => void (errors += 1));
    socket.on('close', () => resolve(Date.now() < end ? connection() : undefined));
  });
}

await Promise.all(Array.from({ length: spec.connections }, () => connection()));
parentPort?.postMessage({ statuses, errors } satisfies FloodResult);

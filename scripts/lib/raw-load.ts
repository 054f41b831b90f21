// A load generator lean enough to drive a server at tens of thousands of requests per second from
// one thread: raw keep-alive sockets, requests prepared as bytes beforehand, responses parsed only
// as far as status line and Content-Length. Each connection has one request in flight.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export type LoadRun = {
  port: number;
  connections: number;
  durationMs: number;
  /** The next request's bytes and a tag to group its results by. */
  next: () => { bytes: Buffer; tag: string };
  /** Stops early (the server died, Ctrl-C). */
  shouldStop?: () => boolean;
};

export type TagResult = { ok: number; latenciesMs: number[]; errors: Map<string, number> };
export type LoadResult = { seconds: number; byTag: Map<string, TagResult> };

const HEADER_END = Buffer.from('\r\n\r\n');

/** Status and total length of the first response in `buf`, or null while it is incomplete. */
function parseResponse(buf: Buffer): { status: number; length: number; close: boolean } | null {
  const end = buf.indexOf(HEADER_END);
  if (end === -1) return null;
  const head = buf.toString('latin1', 0, end).toLowerCase();
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/.exec(head);
  const length = end + 4 + Number(m?.[1] ?? 0);
  if (buf.length < length) return null;
  return { status, length, close: head.includes('\r\nconnection: close') };
}

export async function runLoad(run: LoadRun): Promise<LoadResult> {
  const byTag = new Map<string, TagResult>();
  const resultFor = (tag: string): TagResult => {
    let r = byTag.get(tag);
    if (r === undefined) byTag.set(tag, (r = { ok: 0, latenciesMs: [], errors: new Map() }));
    return r;
  };
  const started = performance.now();
  const deadline = started + run.durationMs;
  const stop = (): boolean => performance.now() >= deadline || (run.shouldStop?.() ?? false);

  const connection = (): Promise<void> =>
    new Promise((resolve) => {
      let socket: Socket;
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let tag = '';
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        socket.destroy();
        resolve();
      };
      const fail = (why: string): void => {
        if (tag !== '') {
          const r = resultFor(tag);
          r.errors.set(why, (r.errors.get(why) ?? 0) + 1);
          tag = '';
        }
        socket.destroy();
        if (stop()) finish();
        else open();
      };
      const send = (): void => {
        if (stop()) return finish();
        const request = run.next();
        tag = request.tag;
        sentAt = performance.now();
        socket.write(request.bytes);
      };
      const open = (): void => {
        pending = Buffer.alloc(0);
        socket = connect(run.port, '127.0.0.1');
        socket.setNoDelay(true);
        socket.on('connect', send);
        socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'error'));
        socket.on('close', () => {
          if (!finished && tag !== '') fail('closed');
        });
        socket.on('data', (chunk: Buffer) => {
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          const response = parseResponse(pending);
          if (response === null) return;
          const ms = performance.now() - sentAt;
          const r = resultFor(tag);
          tag = '';
          if (response.status >= 200 && response.status < 300) {
            r.ok += 1;
            r.latenciesMs.push(ms);
          } else {
            r.errors.set(String(response.status), (r.errors.get(String(response.status)) ?? 0) + 1);
          }
          pending = pending.subarray(response.length);
          if (response.close) {
            socket.removeAllListeners('close');
            socket.destroy();
            if (stop()) finish();
            else open();
          } else {
            send();
          }
        });
      };
      open();
    });

  await Promise.all(Array.from({ length: run.connections }, connection));
  return { seconds: (performance.now() - started) / 1000, byTag };
}

/** Request bytes for keep-alive HTTP/1.1. */
export function requestBytes(method: string, path: string, headers: Record<string, string>, body = ''): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (method !== 'GET') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

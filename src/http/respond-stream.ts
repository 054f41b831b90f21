// Streamed response bodies (an export, a live tail), for respond.ts: the head at once, then the
// body pulled chunk by chunk only as fast as the client takes it; each open stream is kept in a
// registry so that shutdown can find and end it.
import type { ServerResponse } from 'node:http';
import type { Headers, Reply, StreamBody, StreamEnd } from './reply.ts';

/** What became of a streamed body: how it ended and how many bytes were handed to the socket. */
export type StreamOutcome = { end: StreamEnd; bytes: number; error?: unknown };

export type Sent = { status: number; streamed: Promise<StreamOutcome> | null };

/** The streamed responses in progress. */
export type OpenStreams = {
  readonly size: number;
  /**
   * Ends them now: the live tails (endless) cleanly; with `all`, exports too, aborted so their
   * clients see them incomplete.
   */
  endAll(which: 'endless' | 'all'): void;
};

type Entry = { endless: boolean; stop(end: StreamEnd): void };
export type StreamRegistry = OpenStreams & { add(entry: Entry): void; delete(entry: Entry): void };

export function createStreamRegistry(): StreamRegistry {
  const open = new Set<Entry>();
  let ended: 'endless' | 'all' | null = null;
  const ends = (entry: Entry): boolean => ended === 'all' || (ended === 'endless' && entry.endless);
  return {
    get size() {
      return open.size;
    },
    add(entry) {
      open.add(entry);
      // A stream whose handler was still reading when shutdown began ends as soon as it starts.
      if (ends(entry)) entry.stop('shutdown');
    },
    delete: (entry) => void open.delete(entry),
    endAll(which) {
      ended = which === 'all' || ended === 'all' ? 'all' : 'endless';
      for (const entry of [...open]) if (ends(entry)) entry.stop('shutdown');
    },
  };
}

export function sendStream(res: ServerResponse, reply: Extract<Reply, { kind: 'stream' }>, extra: Headers, streams: StreamRegistry | undefined): Sent {
  const { body } = reply;
  if (res.headersSent || res.destroyed || res.socket === null || res.socket.destroyed || streams === undefined) {
    body.close('client_closed');
    if (!res.destroyed) res.destroy();
    return { status: reply.status, streamed: Promise.resolve({ end: 'client_closed', bytes: 0 }) };
  }
  // No Content-Length: the body goes out chunked, as it is produced.
  res.writeHead(reply.status, { ...reply.headers, ...extra, 'Content-Type': reply.contentType });
  if (res.req.method === 'HEAD') {
    res.end();
    body.close('complete');
    return { status: reply.status, streamed: Promise.resolve({ end: 'complete', bytes: 0 }) };
  }
  res.flushHeaders(); // the client learns at once that its stream is open
  return { status: reply.status, streamed: pump(res, body, reply.endless, streams) };
}

const STOPPED = Symbol('stopped');

/** Pulls chunks from `body` into `res`, never asking for the next before the socket took the last. */
async function pump(res: ServerResponse, body: StreamBody, endless: boolean, streams: StreamRegistry): Promise<StreamOutcome> {
  let stoppedBy: StreamEnd | null = null;
  // The wait in progress (for a chunk or for 'drain') and how to cut it short. Each wait has its own
  // promise: racing every wait against one promise that lives as long as the stream would keep a
  // reaction (and the chunk it resolved with) per wait alive until the stream ends.
  let interrupt: (() => void) | null = null;
  // (read through a function: TypeScript cannot see the closure assign it)
  const stopReason = (): StreamEnd | null => stoppedBy;
  const stop = (end: StreamEnd): void => {
    if (stoppedBy !== null) return;
    stoppedBy = end;
    interrupt?.();
  };
  /** Starts `wait` (which returns its cleanup) and resolves with its value, or STOPPED when the stream stops first. */
  const until = <T>(wait: (settle: (value: T) => void, fail: (err: unknown) => void) => () => void): Promise<T | typeof STOPPED> => {
    if (stopReason() !== null) return Promise.resolve(STOPPED);
    let cleanup = (): void => {};
    return new Promise<T | typeof STOPPED>((resolve, reject) => {
      interrupt = () => resolve(STOPPED);
      cleanup = wait(resolve, reject);
    }).finally(() => {
      interrupt = null;
      cleanup();
    });
  };
  const nextChunk = (): Promise<string | Uint8Array | null | typeof STOPPED> =>
    until((settle, fail) => {
      // A chunk still pending when the stream stops is dropped, with any error.
      body.next().then(settle, fail);
      return () => {};
    });
  const drained = (): Promise<void | typeof STOPPED> =>
    until<void>((settle) => {
      res.once('drain', settle);
      return () => res.off('drain', settle);
    });
  const entry: Entry = { endless, stop };
  const onClose = (): void => stop('client_closed');
  res.once('close', onClose);
  streams.add(entry);

  let end: StreamEnd = 'complete';
  let error: unknown;
  let bytes = 0;
  try {
    body.open?.((why) => stop(why));
    for (;;) {
      const chunk = await nextChunk();
      if (chunk === STOPPED || chunk === null) break;
      if (chunk.length === 0) continue; // an empty write would end a chunked body early
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (!res.write(chunk) && (await drained()) === STOPPED) break;
    }
  } catch (err) {
    end = 'failed';
    error = err;
  }
  const stoppedAs = stopReason();
  if (stoppedAs !== null) end = stoppedAs;
  res.off('close', onClose);
  streams.delete(entry);
  body.close(end);

  const socket = res.socket;
  if (end === 'complete') {
    res.end();
  } else if (endless && (end === 'shutdown' || end === 'failed') && !res.writableNeedDrain) {
    // A live tail ended by the server is still a well-formed stream: the client reconnects with
    // its last id. The connection closes after it, instead of idling until the keep-alive timeout.
    res.end(() => socket?.end());
  } else if (!res.destroyed) {
    // A client that went away, one reading too slowly (its unread data is dropped), or an export
    // cut short, which must not look complete.
    res.destroy();
  }
  return error === undefined ? { end, bytes } : { end, bytes, error };
}

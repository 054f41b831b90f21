// The Store the service uses: SQLite runs in worker threads, so no query, lock wait or fsync ever
// blocks the thread that serves HTTP. The writer worker owns the only write connection (SQLite has
// one writer), group-commits and answers readiness; a reader worker on a second connection serves
// /messages and /stats from WAL snapshots, so a slow read never delays a commit. An in-memory
// database cannot be shared between connections, so there the writer serves reads too.
import { Worker } from 'node:worker_threads';
import type { Message } from '../../domain/message.ts';
import { createCommitFeed } from './commit-feed.ts';
import type { MigrationReport } from './migrations.ts';
import { MAX_BATCH, packMessages, unpackAnswers, type Hello, type Op, type Ops, type PackedAnswers, type Response, type WorkerInit } from './protocol.ts';
import type { Failed, InsertResult, NewMessage, Store } from '../store.ts';

export type WorkerStoreOptions = {
  path: string;
  /** How long a statement waits for another connection's lock before failing (a 503). */
  busyTimeoutMs?: number;
  /** Caps the file at this many pages (tests fill the "disk" with it); never set in production. */
  maxPageCount?: number;
  /** Reader workers (connections) serving reads side by side; DEFAULT_READERS when absent. */
  readers?: number;
  now: () => Date;
};

const DEFAULT_BUSY_TIMEOUT_MS = 2_000;
/**
 * One reader. Two made 4 concurrent searches at 1M rows 20–30 % faster (common term p50 49 → 40 ms)
 * but cost 12 MiB of RSS and took CPU from ingest on 2 cores (BENCHMARKS.md, issue 13); with the
 * search index no read holds the reader long. A machine with more cores may ask for more.
 */
const DEFAULT_READERS = 1;

/** Reads over several reader channels: each call goes to the one with the fewest calls waiting. */
function spread(channels: readonly Channel[]): Channel {
  const waiting = channels.map(() => 0);
  return {
    async call(op, arg) {
      let pick = 0;
      for (let i = 1; i < channels.length; i += 1) if ((waiting[i] ?? 0) < (waiting[pick] ?? 0)) pick = i;
      const channel = channels[pick] as Channel;
      waiting[pick] = (waiting[pick] ?? 0) + 1;
      try {
        return await channel.call(op, arg);
      } finally {
        waiting[pick] = (waiting[pick] ?? 1) - 1;
      }
    },
    async stop() {
      await Promise.all(channels.map((c) => c.stop()));
    },
  };
}
/** Batches handed to the writer at once: one committing, the next queued (1, 2, 8 and unlimited measured alike). */
const BATCHES_IN_FLIGHT = 2;
/** Workers hold little JavaScript (a batch, a page of rows): a small heap keeps the process's RSS down. */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };
/** A crashed worker is replaced on demand, at most this often. */
const RESPAWN_INTERVAL_MS = 1_000;

// src/ runs as .ts and dist/ as .js; the worker is the sibling file either way.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

type Result<T> = { ok: true; value: T } | Failed;

const noAnswer = (): Failed => ({ ok: false, error: new Error('no answer') });

export type Channel = {
  call<K extends Op>(op: K, arg: Ops[K]['arg']): Promise<Result<Ops[K]['result']>>;
  /** Resolves when the worker has exited. */
  stop(): Promise<void>;
};

function startWorker(init: WorkerInit, url: URL): Promise<{ worker: Worker; hello: Hello }> {
  const worker = new Worker(url, { workerData: init, name: `sqlite-${init.role}`, resourceLimits: WORKER_HEAP });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    worker.once('error', onError);
    worker.once('message', (hello: Hello) => {
      worker.off('error', onError);
      resolve({ worker, hello });
    });
  });
}

/**
 * Request/response over one worker, replacing it if it dies; failures come back as values.
 * `url` is the worker's script (tests pass one that misbehaves).
 */
export async function openChannel(init: WorkerInit, url: URL = WORKER_URL): Promise<{ channel: Channel; migration: MigrationReport | null; cursorKey: Uint8Array }> {
  const pending = new Map<number, (response: Response) => void>();
  let nextId = 1;
  let stopping = false;
  let lastSpawn = 0;
  let current: Worker | null = null;

  function adopt(worker: Worker): void {
    current = worker;
    worker.unref(); // only pending calls keep the process alive (see call())
    worker.on('message', (response: Response) => {
      const settle = pending.get(response.id);
      pending.delete(response.id);
      if (pending.size === 0) worker.unref();
      settle?.(response);
    });
    worker.on('error', () => {}); // reported through 'exit', which always follows
    worker.on('exit', (code) => {
      if (current === worker) current = null;
      const error = new Error(`storage worker (${init.role}) exited with code ${code}`);
      for (const settle of pending.values()) settle({ id: 0, ok: false, error });
      pending.clear();
    });
  }

  async function spawn(): Promise<Hello> {
    lastSpawn = Date.now();
    const { worker, hello } = await startWorker(init, url);
    if (hello.ready) adopt(worker);
    else await worker.terminate();
    return hello;
  }

  const first = await spawn();
  if (!first.ready) throw first.error;

  async function live(): Promise<Worker | null> {
    if (current !== null) return current;
    if (stopping) return null;
    if (Date.now() - lastSpawn < RESPAWN_INTERVAL_MS) return null;
    try {
      await spawn();
    } catch {
      // reported to the caller as a failed call; the next one may try again
    }
    return current;
  }

  const channel: Channel = {
    async call(op, arg) {
      const worker = await live();
      if (worker === null) return { ok: false, error: new Error(`storage worker (${init.role}) is not running`) };
      const id = nextId++;
      const answer = new Promise<Response>((resolve) => pending.set(id, resolve));
      if (pending.size === 1) worker.ref();
      const insert = op === 'insert';
      worker.postMessage({ id, op, arg: insert ? packMessages(arg as Ops['insert']['arg']) : arg });
      const response = await answer;
      if (!response.ok) return { ok: false, error: response.error };
      // The worker answers each op with its own result type (protocol.ts); structured clone erases it.
      const value = insert ? unpackAnswers(response.value as PackedAnswers) : response.value;
      return { ok: true, value: value as Ops[typeof op]['result'] };
    },
    async stop() {
      const worker = current;
      if (worker === null || stopping) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      stopping = true;
      const closed = await channel.call('close', null);
      worker.ref(); // keeps the process up until the worker has closed the database and exited
      if (!closed.ok) await worker.terminate();
      await exited;
    },
  };
  return { channel, migration: first.migration, cursorKey: first.cursorKey };
}

export async function openWorkerStore(options: WorkerStoreOptions): Promise<{ store: Store; migration: MigrationReport }> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const opened = await openChannel({ path: options.path, busyTimeoutMs, role: 'writer', ...(options.maxPageCount !== undefined && { maxPageCount: options.maxPageCount }) });
  const feed = createCommitFeed();
  const writer = feed.observe(opened.channel);
  const readerCount = options.path === ':memory:' ? 0 : Math.max(1, Math.trunc(options.readers ?? DEFAULT_READERS));
  const readers: Channel[] = [];
  try {
    for (let i = 0; i < readerCount; i += 1) readers.push((await openChannel({ path: options.path, busyTimeoutMs, role: 'reader' })).channel);
  } catch (err) {
    for (const r of readers) await r.stop();
    await writer.stop();
    throw err;
  }
  const reader = readers.length === 0 ? writer : spread(readers);
  const migration = opened.migration ?? { from: 0, to: 0, backfilled: 0, recounted: false };

  // One batch at a time goes to the writer: inserts that arrive while it commits wait in the
  // outbox and travel together as the next batch (one message, one transaction, one fsync).
  // An insertMany is one outbox entry and is never split: the writer never splits a request
  // either, so its messages always share one transaction.
  const outbox: { messages: NewMessage[]; resolve: (results: InsertResult[]) => void }[] = [];
  const inFlight = new Set<Promise<void>>();
  function takeBatch(): typeof outbox {
    let count = 0;
    let n = 0;
    for (const entry of outbox) {
      if (n > 0 && count + entry.messages.length > MAX_BATCH) break;
      count += entry.messages.length;
      n += 1;
    }
    return outbox.splice(0, n);
  }
  function send(): void {
    if (inFlight.size >= BATCHES_IN_FLIGHT || outbox.length === 0) return;
    const batch = takeBatch();
    const sent = writer.call('insert', batch.flatMap((b) => b.messages)).then((result) => {
      inFlight.delete(sent);
      let at = 0;
      for (const b of batch) {
        const answers = b.messages.map((_, i): InsertResult => (result.ok ? (result.value[at + i] ?? noAnswer()) : result));
        at += b.messages.length;
        b.resolve(answers);
      }
      send();
    });
    inFlight.add(sent);
  }
  function enqueue(messages: readonly Message[]): Promise<InsertResult[]> {
    if (closing !== undefined) return Promise.resolve(messages.map(() => ({ ok: false, error: new Error('database is closed') })));
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      if (outbox.length === 0) setImmediate(send); // the rest of this turn's inserts join it
      const createdAt = receivedAt();
      outbox.push({ messages: messages.map((m) => ({ ...m, createdAt })), resolve });
    });
  }

  // toISOString costs about a microsecond; deliveries received in the same millisecond share it.
  let lastMs = NaN;
  let lastIso = '';
  function receivedAt(): string {
    const now = options.now();
    if (now.getTime() !== lastMs) {
      lastMs = now.getTime();
      lastIso = now.toISOString();
    }
    return lastIso;
  }

  let closing: Promise<void> | undefined;
  const store: Store = {
    async insert(message: Message) {
      return (await enqueue([message]))[0] ?? noAnswer();
    },
    insertMany: enqueue,
    async list(filter) {
      const r = await reader.call('list', filter);
      return r.ok ? { ok: true, page: r.value } : r;
    },
    async scan(filter, after, limit) {
      const r = await reader.call('scan', { filter, after, limit });
      return r.ok ? { ok: true, page: r.value } : r;
    },
    async replay(after, filter, limit) {
      const r = await reader.call('replay', { after, filter, limit });
      return r.ok ? { ok: true, replay: r.value } : r;
    },
    subscribe: (listener) => feed.subscribe(listener),
    cursorKey: opened.cursorKey,
    async stats() {
      const r = await reader.call('stats', null);
      return r.ok ? { ok: true, stats: r.value } : r;
    },
    async ping() {
      // Asked of the writer: reads queue behind a slow `q` scan on the reader, commits never take long.
      return (await writer.call('ping', null)).ok;
    },
    async writable() {
      const r = await writer.call('writable', null);
      return r.ok && r.value;
    },
    close() {
      closing ??= (async () => {
        // Everything queued before close is committed and answered first.
        while (outbox.length > 0 || inFlight.size > 0) {
          send();
          await Promise.all(inFlight);
        }
        // The reader first: the writer then closes the last connection, which checkpoints the WAL
        // into the database file (a read-only reader cannot), so a cold backup of that file alone
        // holds every acknowledged row.
        if (reader !== writer) await reader.stop();
        await writer.stop();
      })();
      return closing;
    },
  };
  return { store, migration };
}

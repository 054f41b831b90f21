// A storage worker thread: one SQLite connection, as writer or reader (protocol.ts). The writer
// group-commits: every insert request that arrived while the previous COMMIT was running (the
// thread was busy, so they queued as messages) goes into the next transaction and shares its fsync.
// Each request is answered only after its COMMIT, so a 200 still means durable.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, type Database } from './database.ts';
import { MAX_BATCH, packAnswers, unpackMessages, type Hello, type Request, type Response, type WorkerInit } from './protocol.ts';
import type { NewMessage } from '../store.ts';

if (parentPort === null) throw new Error('storage worker started outside a worker thread');
const port = parentPort;
const init: WorkerInit = workerData;

const reply = (response: Response): void => port.postMessage(response);

/**
 * The writer indexes for search once the table has grown by this many rows (the tail q scans stays
 * below ≈ 2 ms)…
 */
const INDEX_EVERY_ROWS = 5_000;
/** …or once it has had no insert for this long. */
const INDEX_IDLE_MS = 200;

function serve(db: Database): void {
  const queue: { id: number; messages: readonly NewMessage[] }[] = [];
  let scheduled = false;
  let closed = false;

  // Search indexing (search-index.ts) runs only between batches, one short step at a time, so an
  // insert waits at most one step; a batch of inserts always goes first.
  let unindexed = INDEX_EVERY_ROWS; // the backlog left by an earlier run or an upgrade, if any
  let indexTimer: NodeJS.Timeout | null = null;
  function indexSoon(delayMs: number): void {
    if (closed || init.role !== 'writer') return;
    if (indexTimer !== null) {
      if (delayMs > 0) return;
      clearTimeout(indexTimer);
    }
    indexTimer = setTimeout(indexTick, delayMs);
    indexTimer.unref();
  }
  let lastInsertAt = 0;
  function indexTick(): void {
    indexTimer = null;
    if (closed || queue.length > 0) return; // flush() asks again when it is done
    const quiet = Date.now() - lastInsertAt;
    if (unindexed < INDEX_EVERY_ROWS && quiet < INDEX_IDLE_MS) return indexSoon(INDEX_IDLE_MS - quiet);
    // Once started, the steps go on between batches until the index has caught up.
    if (db.indexStep()) indexSoon(0);
    else unindexed = 0;
  }
  function afterFlush(created: number): void {
    unindexed += created;
    if (created > 0) lastInsertAt = Date.now();
    if (queue.length === 0) indexSoon(unindexed >= INDEX_EVERY_ROWS ? 0 : INDEX_IDLE_MS);
  }

  /** Commits queued requests (up to MAX_BATCH messages) in one transaction, answering each. */
  function flush(): void {
    scheduled = false;
    const taken: typeof queue = [];
    let count = 0;
    for (let next = queue[0]; next !== undefined && (count === 0 || count + next.messages.length <= MAX_BATCH); next = queue[0]) {
      taken.push(next);
      count += next.messages.length;
      queue.shift();
    }
    if (queue.length > 0) schedule();
    if (taken.length === 0) return;
    const results = db.insertBatch(taken.flatMap((r) => r.messages));
    let at = 0;
    for (const r of taken) {
      const answers = packAnswers(results.slice(at, (at += r.messages.length)));
      port.postMessage({ id: r.id, ok: true, value: answers } satisfies Response, [answers.seqs.buffer as ArrayBuffer]);
    }
    afterFlush(results.reduce((n, r) => (r.ok && r.created ? n + 1 : n), 0));
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush); // after every message already delivered to this thread
  }

  port.on('message', (request: Request) => {
    const { id } = request;
    try {
      switch (request.op) {
        case 'insert':
          // Sent packed (protocol.ts packMessages).
          queue.push({ id, messages: unpackMessages(request.arg as unknown as Parameters<typeof unpackMessages>[0]) });
          schedule();
          return;
        case 'list':
          return reply({ id, ok: true, value: db.list(request.arg) });
        case 'scan':
          return reply({ id, ok: true, value: db.scan(request.arg.filter, request.arg.after, request.arg.limit) });
        case 'replay':
          return reply({ id, ok: true, value: db.replay(request.arg.after, request.arg.filter, request.arg.limit) });
        case 'stats':
          return reply({ id, ok: true, value: db.stats() });
        case 'ping':
          db.ping();
          return reply({ id, ok: true, value: true });
        case 'writable':
          return reply({ id, ok: true, value: db.writable() });
        case 'close':
          closed = true;
          if (indexTimer !== null) clearTimeout(indexTimer);
          while (queue.length > 0) flush();
          db.close();
          reply({ id, ok: true, value: true });
          port.close();
          return;
      }
    } catch (error) {
      reply({ id, ok: false, error });
    }
  });
  indexSoon(0);
}

let hello: Hello;
let opened: Database | undefined;
try {
  const { db, migration } = openDatabase(init);
  opened = db;
  hello = { ready: true, migration, cursorKey: db.cursorKey() };
} catch (error) {
  hello = { ready: false, error };
}
port.postMessage(hello);
if (opened === undefined) port.close();
else serve(opened);

// What every Store backend must do, as one suite each backend's test file runs with its own
// factory: SQLite in test/integration/store-contract.test.ts, PostgreSQL in
// test/integration/store-contract-postgres.test.ts. A behaviour cannot differ between them
// without one of the two failing. Writes, the arrival sequence, subscription and the cursor key
// are here; lists, scans, replay and stats in store-suite-reads.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { instantKey } from '../../src/domain/timestamp.ts';
import type { Message } from '../../src/domain/message.ts';
import type { Arrival, InsertResult, Store } from '../../src/storage/store.ts';
import { readContract } from './store-suite-reads.ts';

export type Backend = {
  store: Store;
  /** Closes the store and opens a new one on the same database. */
  reopen(): Promise<Store>;
  /** Deletes rows behind the store's back (an operator's ad-hoc SQL). */
  deleteMessages(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
};

/** Opens a backend on a fresh database, or returns null when the test was skipped (no server here). */
export type OpenBackend = (t: TestContext) => Promise<Backend | null>;

export type WithBackend = (title: string, fn: (b: Backend) => Promise<void>) => void;

export function msg(id: string, overrides: Partial<Message> = {}): Message {
  const ts = overrides.ts ?? '2025-01-15T10:00:00Z';
  return { messageId: id, from: '+15550000001', to: '+15550000002', ts, tsKey: instantKey(ts) ?? '', text: `text of ${id}`, ...overrides };
}

const ALL = { from: null, q: null };

/** An insert's outcome as the contract defines it (a backend may add fields, e.g. SQLite's seq). */
const outcome = (r: InsertResult): { ok: boolean; created?: boolean } => (r.ok ? { ok: true, created: r.created } : { ok: false });

async function allArrivals(store: Store): Promise<Arrival[]> {
  const replay = await store.replay(0, ALL, 1000);
  assert.ok(replay.ok);
  return replay.replay.arrivals;
}

export function storeContract(name: string, open: OpenBackend): void {
  const withBackend: WithBackend = (title, fn) => {
    test(`${name}: ${title}`, async (t) => {
      const backend = await open(t);
      if (backend === null) return;
      try {
        await fn(backend);
      } finally {
        await backend.close();
      }
    });
  };

  withBackend('insert: created, then duplicate; the first write wins, even with a different body', async ({ store }) => {
    assert.deepEqual(outcome(await store.insert(msg('w1', { text: 'first' }))), { ok: true, created: true });
    assert.deepEqual(outcome(await store.insert(msg('w1', { text: 'second', from: '+1999', ts: '2030-01-01T00:00:00Z' }))), { ok: true, created: false });
    const page = await store.list({ from: null, since: null, until: null, q: null, limit: 10, offset: 0, after: null });
    assert.ok(page.ok);
    assert.deepEqual(page.page.data, [{ message_id: 'w1', from: '+15550000001', to: '+15550000002', ts: '2025-01-15T10:00:00Z', text: 'first' }]);
    assert.equal(page.page.total, 1);
  });

  withBackend('insertMany: one result per message in order, a repeated id created once (its first occurrence), one batch told in batch order', async ({ store }) => {
    assert.deepEqual(await store.insertMany([]), []);
    await store.insert(msg('old'));
    const told = record(store);
    const results = await store.insertMany([msg('b3', { text: 'one' }), msg('old'), msg('b1'), msg('b3', { text: 'two' }), msg('b2')]);
    assert.deepEqual(results.map((r) => r.ok && r.created), [true, false, true, false, true]);
    await told.until(3);
    told.unsubscribe();
    // The insert of "old" just before subscribing may be told too (subscribe's contract allows it).
    const batches = told.batches.filter((b) => b.some((a) => a.message.message_id !== 'old'));
    assert.equal(told.lost, 0);
    assert.deepEqual(batches.length, 1, 'one transaction, one batch');
    assert.deepEqual(batches.flat().map((a) => a.message.message_id), ['b3', 'b1', 'b2'], 'seqs follow the order of the batch');
    assert.equal(batches.flat()[0]?.message.text, 'one');
    const stored = await allArrivals(store);
    assert.deepEqual(stored.map((a) => a.message.message_id), ['old', 'b3', 'b1', 'b2']);
  });

  withBackend('concurrent inserts of one id: every call answers ok, exactly one created, one row', async ({ store }) => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.insert(msg(i % 2 === 0 ? 'same' : `other-${i % 4}`, { text: `body ${i}` }))));
    assert.ok(results.every((r) => r.ok));
    assert.equal(results.filter((r) => r.ok && r.created).length, 3);
    const stats = await store.stats();
    assert.ok(stats.ok);
    assert.equal(stats.stats.total_messages, 3);
    assert.deepEqual((await allArrivals(store)).map((a) => a.message.message_id).sort(), ['other-1', 'other-3', 'same']);
  });

  withBackend('strings are kept exactly: NUL and other control characters, quotes, backslashes, emoji, 4096 code points, null text', async (backend) => {
    const odd = ['nul\u0000inside', '\u0000', '\u0001\u0002', 'quote"\'\\back', 'tab\tnew\nline', 'emoji 😀 é', '{"a":[1,2]}', 'NULL', ''];
    const texts: (string | null)[] = [...odd, null, '😀'.repeat(4096)];
    const messages = texts.map((text, i) => msg(`s${i}-${odd[i % odd.length] ?? ''}`, { text }));
    for (const m of messages) assert.deepEqual(outcome(await backend.store.insert(m)), { ok: true, created: true });
    for (const m of messages) assert.deepEqual(outcome(await backend.store.insert(m)), { ok: true, created: false }, `a repeat of ${JSON.stringify(m.messageId)} is a duplicate`);
    const store = await backend.reopen();
    const page = await store.scan({ from: null, since: null, until: null, q: null }, null, 100);
    assert.ok(page.ok);
    const byId = new Map(page.page.rows.map((r) => [r.message_id, r.text]));
    for (const m of messages) assert.equal(byId.get(m.messageId), m.text, JSON.stringify(m.messageId));
    assert.equal(page.page.rows.length, messages.length);
  });

  withBackend('subscribers are told of each committed batch once, with strictly increasing seqs; duplicates are not news', async ({ store }) => {
    const told = record(store);
    const results = await Promise.all(['a', 'b', 'c', 'a', 'b', 'd'].map((id) => store.insert(msg(id))));
    assert.deepEqual(results.map((r) => r.ok && r.created), [true, true, true, false, false, true]);
    await told.until(4);
    const seen = told.batches.flat();
    assert.deepEqual(seen.map((a) => a.message.message_id).sort(), ['a', 'b', 'c', 'd']);
    for (let i = 1; i < seen.length; i += 1) assert.ok((seen[i]?.seq ?? 0) > (seen[i - 1]?.seq ?? 0));
    assert.deepEqual(seen.find((a) => a.message.message_id === 'a')?.message, { message_id: 'a', from: '+15550000001', to: '+15550000002', ts: '2025-01-15T10:00:00Z', text: 'text of a' });
    told.unsubscribe();
    await store.insert(msg('e'));
    await settle(store);
    assert.equal(told.batches.flat().length, 4, 'nothing after unsubscribe');
    assert.equal(told.lost, 0);
    // The seqs told are the seqs stored.
    const stored = await allArrivals(store);
    assert.deepEqual(stored.slice(0, 4).map((a) => [a.seq, a.message.message_id]), seen.map((a) => [a.seq, a.message.message_id]));
  });

  withBackend('a listener that throws is told lost() instead; the others and the writes are unaffected', async ({ store }) => {
    const faulty = record(store, { throws: true });
    const good = record(store);
    assert.deepEqual(outcome(await store.insert(msg('t1'))), { ok: true, created: true });
    await Promise.all([faulty.until(0, 1), good.until(1)]);
    assert.equal(good.lost, 0);
  });

  withBackend('a seq is never reused, even after the newest rows are deleted, nor after reopening', async (backend) => {
    await backend.store.insert(msg('n1'));
    await backend.store.insert(msg('n2'));
    const before = await backend.store.replay(0, ALL, 10);
    assert.ok(before.ok);
    const highest = before.replay.head;
    await backend.deleteMessages(['n2']);
    await backend.store.insert(msg('n3'));
    const store = await backend.reopen();
    await backend.deleteMessages(['n3']);
    await store.insert(msg('n2'));
    const after = await allArrivals(store);
    assert.deepEqual(after.map((a) => a.message.message_id), ['n1', 'n2']);
    const n2 = after[1];
    assert.ok(n2 !== undefined && n2.seq > highest + 1, `n2 again got ${n2?.seq}; seqs up to ${highest + 1} were used`);
  });

  withBackend('close commits what is queued; later calls fail as values, not throws; reopening keeps every row', async (backend) => {
    const pending = Promise.all(Array.from({ length: 20 }, (_, i) => backend.store.insert(msg(`q${i}`))));
    const closing = backend.store.close();
    const results = await pending;
    await closing;
    assert.ok(results.every((r) => r.ok && r.created), 'every insert queued before close is committed');
    const late = await backend.store.insert(msg('late'));
    assert.equal(late.ok, false);
    const store = await backend.reopen();
    const stats = await store.stats();
    assert.ok(stats.ok);
    assert.equal(stats.stats.total_messages, 20);
  });

  withBackend('ping and writable answer true on a healthy database', async ({ store }) => {
    assert.equal(await store.ping(), true);
    assert.equal(await store.writable(), true);
  });

  withBackend('the cursor key: 32 bytes kept in the database, the same after reopening', async (backend) => {
    const key = Buffer.from(backend.store.cursorKey);
    assert.equal(key.length, 32);
    assert.notDeepEqual(key, Buffer.alloc(32));
    const again = await backend.reopen();
    assert.deepEqual(Buffer.from(again.cursorKey), key);
  });

  readContract(withBackend);
}

export type Recorder = {
  batches: Arrival[][];
  lost: number;
  /** Resolves once this many arrivals have been told (or lost() that many times); fails after 10 s. */
  until(arrivals: number, lost?: number): Promise<void>;
  unsubscribe(): void;
};

/** A listener that keeps what it is told, and lets a test await it (a notification may take a moment). */
export function record(store: Store, options: { throws?: boolean } = {}): Recorder {
  const waiters = new Set<() => void>();
  const recorder: Recorder = {
    batches: [],
    lost: 0,
    until(arrivals, lost = 0) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`told ${recorder.batches.flat().length} arrivals and ${recorder.lost} losses, waited for ${arrivals} and ${lost}`)), 10_000);
        const check = (): void => {
          if (recorder.batches.flat().length < arrivals || recorder.lost < lost) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    unsubscribe: () => {},
  };
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  recorder.unsubscribe = store.subscribe({
    committed(arrivals) {
      if (options.throws === true) throw new Error('listener bug');
      recorder.batches.push([...arrivals]);
      wake();
    },
    lost() {
      recorder.lost += 1;
      wake();
    },
  });
  return recorder;
}

/** Inserts a marker and waits until a fresh listener is told of it: every earlier batch has been told by then. */
async function settle(store: Store): Promise<void> {
  const marker = record(store);
  await store.insert(msg(`settle-${Date.now()}`));
  await marker.until(1);
  marker.unsubscribe();
}

// What every Store backend must do for the read features (arrival sequence, subscription, replay,
// keyset scans and cursors' key), as one suite a backend's test file runs with its own factory.
// SQLite runs it in test/integration/store-contract.test.ts; the PostgreSQL backend runs it too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantKey } from '../../src/domain/timestamp.ts';
import type { Message } from '../../src/domain/message.ts';
import type { Arrival, MatchFilter, Store } from '../../src/storage/store.ts';

export type Backend = {
  store: Store;
  /** Closes the store and opens a new one on the same database. */
  reopen(): Promise<Store>;
  /** Deletes rows behind the store's back (an operator's ad-hoc SQL). */
  deleteMessages(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
};

const NONE: MatchFilter = { from: null, since: null, until: null, q: null };

function msg(id: string, overrides: Partial<Message> = {}): Message {
  const ts = overrides.ts ?? '2025-01-15T10:00:00Z';
  return { messageId: id, from: '+15550000001', to: '+15550000002', ts, tsKey: instantKey(ts) ?? '', text: `text of ${id}`, ...overrides };
}

export function storeContract(name: string, open: () => Promise<Backend>): void {
  const withBackend = (title: string, fn: (b: Backend) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const backend = await open();
      try {
        await fn(backend);
      } finally {
        await backend.close();
      }
    });
  };

  withBackend('subscribers are told of each committed batch once, with strictly increasing seqs; duplicates are not news', async ({ store }) => {
    const batches: Arrival[][] = [];
    const unsubscribe = store.subscribe({ committed: (a) => void batches.push([...a]), lost: () => assert.fail('lost') });
    const results = await Promise.all(['a', 'b', 'c', 'a', 'b', 'd'].map((id) => store.insert(msg(id))));
    assert.deepEqual(results.map((r) => r.ok && r.created), [true, true, true, false, false, true]);
    const seen = batches.flat();
    assert.deepEqual(seen.map((a) => a.message.message_id).sort(), ['a', 'b', 'c', 'd']);
    for (let i = 1; i < seen.length; i += 1) assert.ok((seen[i]?.seq ?? 0) > (seen[i - 1]?.seq ?? 0));
    assert.deepEqual(seen.find((a) => a.message.message_id === 'a')?.message, { message_id: 'a', from: '+15550000001', to: '+15550000002', ts: '2025-01-15T10:00:00Z', text: 'text of a' });
    unsubscribe();
    await store.insert(msg('e'));
    assert.equal(batches.flat().length, 4, 'nothing after unsubscribe');
    // The seqs told are the seqs stored.
    const replay = await store.replay(0, { from: null, q: null }, 100);
    assert.ok(replay.ok);
    assert.deepEqual(replay.replay.arrivals.slice(0, 4).map((a) => [a.seq, a.message.message_id]), seen.map((a) => [a.seq, a.message.message_id]));
  });

  withBackend('replay: pages after a seq, the head of its snapshot, more, and filters', async ({ store }) => {
    for (let i = 0; i < 7; i += 1) await store.insert(msg(`r${i}`, { from: i % 2 === 0 ? '+1555' : '+1666', text: i === 3 ? 'Hello ÉCOLE' : `t${i}` }));
    const all = await store.replay(0, { from: null, q: null }, 100);
    assert.ok(all.ok);
    const seqs = all.replay.arrivals.map((a) => a.seq);
    assert.equal(seqs.length, 7);
    assert.equal(all.replay.head, seqs[6]);
    assert.equal(all.replay.more, false);
    const page = await store.replay(seqs[1] ?? 0, { from: null, q: null }, 2);
    assert.ok(page.ok);
    assert.deepEqual(page.replay.arrivals.map((a) => a.seq), [seqs[2], seqs[3]]);
    assert.equal(page.replay.more, true);
    const headOnly = await store.replay(0, { from: null, q: null }, 0);
    assert.ok(headOnly.ok);
    assert.deepEqual([headOnly.replay.arrivals, headOnly.replay.head], [[], seqs[6]]);
    const filtered = await store.replay(0, { from: '+1666', q: 'école' }, 100);
    assert.ok(filtered.ok);
    assert.deepEqual(filtered.replay.arrivals.map((a) => a.message.message_id), ['r3']);
    assert.equal(filtered.replay.more, false);
    const none = await store.replay(seqs[6] ?? 0, { from: null, q: null }, 10);
    assert.ok(none.ok && none.replay.arrivals.length === 0 && none.replay.head === seqs[6]);
  });

  withBackend('a seq is never reused, even after the newest rows are deleted', async ({ store, deleteMessages }) => {
    await store.insert(msg('n1'));
    await store.insert(msg('n2'));
    const before = await store.replay(0, { from: null, q: null }, 10);
    assert.ok(before.ok);
    const highest = before.replay.head;
    await deleteMessages(['n2']);
    await store.insert(msg('n3'));
    const after = await store.replay(0, { from: null, q: null }, 10);
    assert.ok(after.ok);
    const n3 = after.replay.arrivals.find((a) => a.message.message_id === 'n3');
    assert.ok(n3 !== undefined && n3.seq > highest, `n3 got ${n3?.seq}, the deleted n2 had ${highest}`);
  });

  withBackend('scan and list: keyset pages in list order, with the position to go on from', async ({ store }) => {
    const tss = ['2025-01-15T10:00:00.5Z', '2025-01-15T10:00:00Z', '2025-01-15T10:00:00Z', '2025-01-14T00:00:00Z', '2025-01-16T00:00:00Z'];
    for (const [i, ts] of tss.entries()) await store.insert(msg(`k${i}`, { ts }));
    const order = ['k3', 'k1', 'k2', 'k0', 'k4'];
    const walked: string[] = [];
    let after = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await store.scan(NONE, after, 2);
      assert.ok(page.ok);
      walked.push(...page.page.rows.map((r) => r.message_id));
      after = page.page.next;
      if (after === null) break;
    }
    assert.deepEqual(walked, order);
    const first = await store.list({ ...NONE, limit: 2, offset: 0, after: null });
    assert.ok(first.ok && first.page.next !== null);
    const second = await store.list({ ...NONE, limit: 2, offset: 0, after: first.page.next });
    assert.ok(second.ok);
    assert.deepEqual([second.page.total, second.page.data.map((r) => r.message_id)], [5, ['k2', 'k0']]);
    // Newest first: the same rows reversed, by offset and by position.
    const newest = await store.list({ ...NONE, limit: 2, offset: 0, after: null, order: 'desc' });
    assert.ok(newest.ok && newest.page.next !== null);
    assert.deepEqual(newest.page.data.map((r) => r.message_id), ['k4', 'k0']);
    const older = await store.list({ ...NONE, limit: 2, offset: 0, after: newest.page.next, order: 'desc' });
    assert.ok(older.ok);
    assert.deepEqual([older.page.total, older.page.data.map((r) => r.message_id)], [5, ['k2', 'k1']]);
    const skipped = await store.list({ ...NONE, limit: 3, offset: 3, after: null, order: 'desc' });
    assert.ok(skipped.ok && skipped.page.next === null);
    assert.deepEqual(skipped.page.data.map((r) => r.message_id), ['k1', 'k3']);
    const last = await store.list({ ...NONE, limit: 5, offset: 0, after: null });
    assert.ok(last.ok && last.page.next === null, 'no position when nothing follows');
    const until = await store.scan({ ...NONE, until: instantKey('2025-01-15T10:00:00.5Z') }, null, 10);
    assert.ok(until.ok);
    assert.deepEqual(until.page.rows.map((r) => r.message_id), ['k3', 'k1', 'k2']);
  });

  withBackend('the cursor key: 32 bytes kept in the database, the same after reopening', async (backend) => {
    const key = Buffer.from(backend.store.cursorKey);
    assert.equal(key.length, 32);
    assert.notDeepEqual(key, Buffer.alloc(32));
    const again = await backend.reopen();
    assert.deepEqual(Buffer.from(again.cursorKey), key);
  });
}

// The PostgreSQL Store's live feed (src/storage/postgres/store/feed.ts): notifications become
// committed batches in notification order, whatever order the reads of other replicas' batches
// finish in; own batches come from memory; a lost LISTEN connection is lost() for every listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFeed, type BatchRead } from '../../src/storage/postgres/store/feed.ts';
import type { Arrival, CommitListener } from '../../src/storage/store.ts';

const arrival = (seq: number): Arrival => ({ seq, message: { message_id: `m${seq}`, from: '+1', to: '+2', ts: '2025-01-15T10:00:00Z', text: null } });

function recorder(): CommitListener & { told: (number[] | 'lost')[] } {
  const told: (number[] | 'lost')[] = [];
  return { told, committed: (a) => void told.push(a.map((x) => x.seq)), lost: () => void told.push('lost') };
}

/** Reads that finish when the test says so, to put them out of order. */
function controlledReads(): { read: BatchRead; finish(first: number, ok?: boolean): void; reads: number[] } {
  const waiting = new Map<number, (ok: boolean) => void>();
  const reads: number[] = [];
  const read: BatchRead = (first, last) => {
    reads.push(first);
    return new Promise((resolve) => waiting.set(first, (ok) => resolve(ok ? { ok: true, arrivals: Array.from({ length: last - first + 1 }, (_, i) => arrival(first + i)) } : { ok: false, error: new Error('read failed') })));
  };
  return { read, reads, finish: (first, ok = true) => waiting.get(first)?.(ok) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('batches are told in notification order even when the reads finish the other way round', async () => {
  const reads = controlledReads();
  const feed = createFeed('aa', reads.read);
  feed.up();
  const listener = recorder();
  feed.subscribe(listener);
  feed.notified('bb:1:10:11');
  feed.notified('cc:7:12:12');
  reads.finish(12);
  await settle();
  assert.deepEqual(listener.told, [], 'the later batch waits for the earlier one');
  reads.finish(10);
  await settle();
  assert.deepEqual(listener.told, [[10, 11], [12]]);
});

test('own batches come from memory, no read; a failed one that still commits is read back', async () => {
  const reads = controlledReads();
  const feed = createFeed('aa', reads.read);
  feed.up();
  const listener = recorder();
  feed.subscribe(listener);
  const one = feed.begin();
  assert.equal(one.keep, true);
  feed.arrived(one.batch, [arrival(3), arrival(4)]);
  feed.notified(`aa:${one.batch}:3:4`);
  const two = feed.begin();
  feed.failed(two.batch); // its answer was lost, but it committed: its notification comes anyway
  feed.notified(`aa:${two.batch}:5:5`);
  reads.finish(5);
  await settle();
  assert.deepEqual(listener.told, [[3, 4], [5]]);
  assert.deepEqual(reads.reads, [5]);
});

test('no listener: nothing is kept and nothing is read; payloads that are not ours are ignored', async () => {
  const reads = controlledReads();
  const feed = createFeed('aa', reads.read);
  feed.up();
  assert.equal(feed.begin().keep, false);
  feed.notified('bb:1:1:1');
  feed.notified('hello');
  feed.notified('bb:1:1');
  const listener = recorder();
  feed.subscribe(listener);
  feed.notified('not:a:payload:x');
  await settle();
  assert.deepEqual(reads.reads, []);
  assert.deepEqual(listener.told, []);
});

test('the LISTEN connection lost: every listener is told lost(), after what was already on its way; one that joins meanwhile at once', async () => {
  const reads = controlledReads();
  const feed = createFeed('aa', reads.read);
  feed.up();
  const early = recorder();
  feed.subscribe(early);
  feed.notified('bb:1:1:1');
  feed.down();
  const late = recorder();
  feed.subscribe(late);
  await settle();
  assert.deepEqual(late.told, ['lost']);
  reads.finish(1);
  await settle();
  assert.deepEqual(early.told, [[1], 'lost']);
  feed.up();
  const after = recorder();
  feed.subscribe(after);
  await settle();
  assert.deepEqual(after.told, [], 'listening again: no loss for a new listener');
});

test('a read that fails is lost() for every listener at its place in the order; an unsubscribed listener hears nothing more', async () => {
  const reads = controlledReads();
  const feed = createFeed('aa', reads.read);
  feed.up();
  const a = recorder();
  const b = recorder();
  const unsubscribeB = feed.subscribe(b);
  feed.subscribe(a);
  feed.notified('bb:1:1:1');
  feed.notified('bb:2:2:2');
  reads.finish(2);
  reads.finish(1, false);
  await settle();
  assert.deepEqual(a.told, ['lost', [2]]);
  unsubscribeB();
  feed.notified('bb:3:3:3');
  reads.finish(3);
  await settle();
  assert.deepEqual(b.told, ['lost', [2]]);
  assert.deepEqual(a.told, ['lost', [2], [3]]);
});

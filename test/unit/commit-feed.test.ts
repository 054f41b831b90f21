// The commit feed over a writer channel: every `insert` answer is told to subscribers (created rows
// only, with their seqs), an unanswered insert is "lost", and a listener's fault never fails the insert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCommitFeed } from '../../src/storage/sqlite/commit-feed.ts';
import type { Channel } from '../../src/storage/sqlite/worker-store.ts';
import type { Arrival, NewMessage } from '../../src/storage/store.ts';

const m = (id: string): NewMessage => ({ messageId: id, from: '+1', to: '+2', ts: '2025-01-15T10:00:00Z', tsKey: '2025-01-15T10:00:00.000000000Z', text: null, createdAt: '2025-01-15T10:00:00.000Z' });

/** A channel whose writer answers inserts from a script (the real one is a worker thread). */
function scripted(answers: unknown[]): Channel {
  return {
    call: async (op) => (op === 'insert' ? (answers.shift() as never) : ({ ok: true, value: true } as never)),
    stop: async () => {},
  };
}

test('created rows are told with their seqs; duplicates and failed rows are not', async () => {
  const feed = createCommitFeed();
  const told: Arrival[][] = [];
  feed.subscribe({ committed: (a) => void told.push([...a]), lost: () => assert.fail('lost') });
  const channel = feed.observe(scripted([{ ok: true, value: [{ ok: true, created: true, seq: 7 }, { ok: true, created: false }, { ok: false, error: new Error('row') }, { ok: true, created: true, seq: 9 }] }]));
  const answer = await channel.call('insert', [m('a'), m('b'), m('c'), m('d')]);
  assert.equal(answer.ok, true);
  assert.deepEqual(told.map((b) => b.map((a) => [a.seq, a.message.message_id])), [[[7, 'a'], [9, 'd']]]);
  assert.deepEqual(told[0]?.[0]?.message, { message_id: 'a', from: '+1', to: '+2', ts: '2025-01-15T10:00:00Z', text: null });
});

test('an insert the worker never answered is "lost" (it may have committed); other ops are not watched', async () => {
  const feed = createCommitFeed();
  let lost = 0;
  feed.subscribe({ committed: () => assert.fail('nothing committed'), lost: () => void (lost += 1) });
  const channel = feed.observe(scripted([{ ok: false, error: new Error('storage worker (writer) exited with code 1') }]));
  assert.equal((await channel.call('insert', [m('a')])).ok, false);
  assert.equal(lost, 1);
  await channel.call('ping', null);
  assert.equal(lost, 1);
});

test('a listener that throws is told "lost" instead, and the insert still answers', async () => {
  const feed = createCommitFeed();
  const events: string[] = [];
  feed.subscribe({ committed: () => { throw new Error('bug'); }, lost: () => void events.push('lost') });
  feed.subscribe({ committed: (a) => void events.push(`ok ${a.length}`), lost: () => void events.push('other lost') });
  const channel = feed.observe(scripted([{ ok: true, value: [{ ok: true, created: true, seq: 1 }] }]));
  assert.deepEqual(await channel.call('insert', [m('a')]), { ok: true, value: [{ ok: true, created: true, seq: 1 }] });
  assert.deepEqual(events, ['lost', 'ok 1']);
});

test('with no subscriber nothing is built; unsubscribe stops the news', async () => {
  const feed = createCommitFeed();
  const told: number[] = [];
  const unsubscribe = feed.subscribe({ committed: (a) => void told.push(a.length), lost: () => {} });
  unsubscribe();
  const channel = feed.observe(scripted([{ ok: true, value: [{ ok: true, created: true, seq: 1 }] }]));
  await channel.call('insert', [m('a')]);
  assert.deepEqual(told, []);
});

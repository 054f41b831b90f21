// The replay-to-live handover of one live tail, driven step by step: a table of arrivals (what a
// store would hold) and the committed batches offered to the stream, in every order the HTTP thread
// can see them in relation to the replay snapshots. Then the registry's fan-out ticks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createArrivalBatch, liveFilter } from '../../src/messages/arrival-batch.ts';
import { createSubscribers } from '../../src/messages/subscribers.ts';
import { createTail, type Tail } from '../../src/messages/tail.ts';
import { createGauge } from '../../src/metrics/gauge.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { Arrival, ArrivalFilter, CommitListener, Replay } from '../../src/storage/store.ts';

type Harness = {
  tail: Tail;
  /** Stores arrivals: visible to every replay snapshot taken from now on. */
  commit(...seqs: number[]): Arrival[];
  /** Tells the open streams of a committed batch, as the writer's answer would. */
  announce(arrivals: Arrival[]): void;
  /** What the handler does: the first read (limit 0 for a new client), then start. */
  start(after: number | null): Promise<void>;
  /** Everything the stream produces until it would wait. */
  drain(): Promise<string>;
  replays: number;
  cut: string[];
};

const arrival = (seq: number, from: string): Arrival => ({ seq, message: { message_id: `m${seq}`, from, to: '+1666', ts: '2025-01-15T10:00:00Z', text: `text ${seq}` } });

function harness(options: { filter?: ArrivalFilter; maxUnreadBytes?: number; page?: number; fromOf?: (seq: number) => string } = {}): Harness {
  const table: Arrival[] = [];
  const filter = options.filter ?? { from: null, q: null };
  const matches = (a: Arrival): boolean => (filter.from === null || a.message.from === filter.from) && (filter.q === null || (a.message.text ?? '').includes(filter.q));
  const replay = async (after: number, limit: number): Promise<Replay> => {
    h.replays += 1;
    const head = table.at(-1)?.seq ?? 0;
    const found = limit === 0 ? [] : table.filter((a) => a.seq > after && matches(a));
    return { arrivals: found.slice(0, limit), head, more: found.length > limit };
  };
  const tail = createTail({
    store: { replay: async (after, _filter, limit) => ({ ok: true, replay: await replay(after, limit) }) },
    logger: createLogger({ level: 'error', write: () => {}, now: () => new Date() }),
    filter,
    live: liveFilter(filter),
    heartbeatMs: 60_000,
    maxUnreadBytes: options.maxUnreadBytes ?? 1024 * 1024,
    replayPage: options.page ?? 3,
  });
  let pendingNext: Promise<string | Uint8Array | null> | null = null;
  const h: Harness = {
    tail,
    replays: 0,
    cut: [],
    commit: (...seqs) => {
      const added = seqs.map((s) => arrival(s, options.fromOf?.(s) ?? '+1555'));
      table.push(...added);
      return added;
    },
    announce: (arrivals) => tail.member.offer(createArrivalBatch(arrivals)),
    async start(after) {
      // (the handler joins the fan-out before this first read; offers from then on reach the tail)
      tail.body.open?.((why) => void h.cut.push(why));
      tail.start(await replay(after ?? 0, after === null ? 0 : options.page ?? 3), after, () => {});
    },
    async drain() {
      let out = '';
      for (;;) {
        // A next() still waiting when drain returns is kept for the next drain, as the responder would.
        pendingNext ??= tail.body.next();
        const chunk = await Promise.race([pendingNext, new Promise<'waiting'>((resolve) => setImmediate(() => resolve('waiting')))]);
        if (chunk === 'waiting') return out;
        pendingNext = null;
        if (chunk === null) return out;
        out += Buffer.from(chunk).toString('utf8');
      }
    },
  };
  return h;
}

const ids = (text: string): number[] => [...text.matchAll(/^id: (\d+)\nevent: message\n/gm)].map((m) => Number(m[1]));
const positions = (text: string): number[] => [...text.matchAll(/^id: (\d+)\n\n/gm)].map((m) => Number(m[1]));

test('a new client starts at the head: its first frame is the head as id, then every later batch once', async () => {
  const h = harness();
  h.commit(1, 2, 3);
  const early = h.commit(4); // committed before the client's read, announced after it joined
  await h.start(null);
  h.announce(early);
  const later = h.commit(5, 6);
  h.announce(later);
  const out = await h.drain();
  assert.deepEqual(positions(out), [4]);
  assert.deepEqual(ids(out), [5, 6]);
});

test('replay, then live: a batch seen during replay, in the snapshot or not, is sent once', async () => {
  const h = harness({ page: 2 });
  h.commit(1, 2, 3, 4, 5);
  await h.start(1); // first page: 2, 3 (more)
  const inSnapshot = h.commit(6, 7);
  h.announce(inSnapshot); // kept while replaying; the next replay page will contain them too
  let out = await h.drain(); // replays 4,5 then 6,7 (pages of 2), then the handover
  const afterSnapshot = h.commit(8);
  h.announce(afterSnapshot);
  const late = h.commit(9, 10);
  h.announce(late);
  out += await h.drain();
  assert.deepEqual(ids(out), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('a batch committed before the last snapshot but announced after the handover is not repeated', async () => {
  const h = harness();
  h.commit(1, 2);
  const delayed = h.commit(3, 4); // in the database, its announcement still on its way
  await h.start(0);
  let out = await h.drain();
  h.announce(delayed);
  h.announce(h.commit(5));
  out += await h.drain();
  assert.deepEqual(ids(out), [1, 2, 3, 4, 5]);
});

test('batches kept during a long replay that outgrow the limit are dropped and replayed from the table instead', async () => {
  const h = harness({ page: 2, maxUnreadBytes: 400 });
  h.commit(...Array.from({ length: 9 }, (_, i) => i + 1));
  await h.start(0);
  for (let seq = 10; seq < 30; seq += 1) h.announce(h.commit(seq)); // far more than 400 bytes, during replay
  const reads = h.replays;
  let out = await h.drain();
  assert.ok(h.replays > reads + 10, 'replay went back to the table');
  h.announce(h.commit(30));
  out += await h.drain();
  assert.deepEqual(ids(out), Array.from({ length: 30 }, (_, i) => i + 1));
  assert.deepEqual(h.cut, [], 'replaying is not reading slowly');
});

test('filters: only matching arrivals, and the resume point still moves to the head', async () => {
  const h = harness({ filter: { from: '+1999', q: null }, fromOf: (seq) => (seq % 3 === 0 ? '+1999' : '+1555') });
  h.commit(1, 2, 3, 4, 5);
  await h.start(0);
  let out = await h.drain();
  assert.deepEqual(ids(out), [3]);
  assert.deepEqual(positions(out), [5]);
  h.announce(h.commit(6, 7, 8, 9));
  out += await h.drain();
  assert.deepEqual(ids(out), [3, 6, 9]);
});

test('live data piling up behind a client that does not read cuts it off; lost commits end it', async () => {
  const h = harness({ maxUnreadBytes: 300 });
  await h.start(null);
  await h.drain();
  for (let seq = 1; seq <= 5; seq += 1) h.announce(h.commit(seq)); // nobody takes them
  assert.deepEqual(h.cut, ['cut_off']);

  const g = harness();
  await g.start(null);
  await g.drain();
  g.tail.member.lost();
  assert.deepEqual(g.cut, ['failed']);
  await assert.rejects(g.tail.body.next());
});

test('an id past the head resumes from the head and says so', async () => {
  const h = harness();
  h.commit(1, 2);
  await h.start(50);
  let out = await h.drain();
  assert.deepEqual(positions(out), [2]);
  h.announce(h.commit(3));
  out += await h.drain();
  assert.deepEqual(ids(out), [3]);
});

test('the registry fans out the batches of one tick together, caps the streams, and flushes before "lost"', async () => {
  let listener: CommitListener | null = null;
  let subscribed = 0;
  const gauge = createGauge({ name: 'g', help: 'g' });
  const subscribers = createSubscribers({ store: { subscribe: (l) => ((listener = l), (subscribed += 1), () => (listener = null)) }, max: 2, gauge, fanoutMs: 20 });
  const offered: number[][] = [];
  const lost: string[] = [];
  const member = (name: string) => ({ offer: (b: { arrivals: readonly Arrival[] }) => void offered.push(b.arrivals.map((a) => a.seq)), lost: () => void lost.push(name) });
  assert.equal(listener, null, 'not subscribed while no stream is open');
  const leaveA = subscribers.join(member('a'));
  const leaveB = subscribers.join(member('b'));
  assert.ok(leaveA && leaveB);
  assert.equal(subscribers.join(member('c')), null, 'max 2');
  assert.equal(gauge.get(), 2);
  const l = listener as CommitListener | null;
  assert.ok(l);
  l.committed([arrival(1, '+1'), arrival(2, '+1')]);
  l.committed([arrival(3, '+1')]);
  assert.deepEqual(offered, [], 'not within the same turn');
  await new Promise((resolve) => setTimeout(resolve, 2));
  assert.deepEqual(offered, [[1, 2, 3], [1, 2, 3]], 'after a quiet spell at once; one batch for the turn, to each stream');
  l.committed([arrival(4, '+1')]);
  l.committed([arrival(5, '+1')]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(offered.length, 2, 'the next fan-out waits for the window');
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(offered.slice(2), [[4, 5], [4, 5]], 'the batches of the window together');
  l.committed([arrival(6, '+1')]);
  l.lost();
  assert.deepEqual(offered.slice(4), [[6], [6]], 'what waited is offered before "lost"');
  assert.deepEqual(lost, ['a', 'b']);
  leaveA();
  leaveA();
  assert.equal(gauge.get(), 1);
  leaveB();
  assert.equal(gauge.get(), 0);
  assert.equal(listener, null, 'unsubscribed when the last stream leaves');
  assert.ok(subscribers.join(member('d')));
  assert.equal(subscribed, 2);
});

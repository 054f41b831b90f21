// The read half of the Store contract (store-suite.ts runs it): list order and filters, totals,
// offsets and keyset positions, export scans, replay and /stats, on every backend alike.
import assert from 'node:assert/strict';
import { instantKey } from '../../src/domain/timestamp.ts';
import type { ListFilter, MatchFilter, Store } from '../../src/storage/store.ts';
import { msg, type WithBackend } from './store-suite.ts';

const NONE: MatchFilter = { from: null, since: null, until: null, q: null };
const list = (filter: Partial<ListFilter> = {}): ListFilter => ({ ...NONE, limit: 100, offset: 0, after: null, ...filter });
const key = (ts: string): string => instantKey(ts) ?? assert.fail(ts);

async function ids(store: Store, filter: Partial<ListFilter> = {}): Promise<{ ids: string[]; total: number }> {
  const page = await store.list(list(filter));
  assert.ok(page.ok, page.ok ? '' : String(page.error));
  return { ids: page.page.data.map((r) => r.message_id), total: page.page.total };
}

/** Every row of a scan, page by page, and the size of each page. */
async function walk(store: Store, filter: MatchFilter, limit: number): Promise<{ ids: string[]; pages: number[] }> {
  const out: string[] = [];
  const pages: number[] = [];
  let after = null;
  for (let n = 0; n < 10_000; n += 1) {
    const page = await store.scan(filter, after, limit);
    assert.ok(page.ok);
    out.push(...page.page.rows.map((r) => r.message_id));
    pages.push(page.page.rows.length);
    after = page.page.next;
    if (after === null) return { ids: out, pages };
  }
  return assert.fail('the scan did not end');
}

export function readContract(withBackend: WithBackend): void {
  withBackend('list order: by instant (…:00.5Z after …:00Z), then message_id in UTF-8 byte order', async ({ store }) => {
    const sameInstant = ['B', 'a', 'é', 'z', 'Z', '~', 'a\u0000b', 'a\u0001', 'A', 'Ａ', '😀', '\u0000'];
    for (const id of sameInstant) await store.insert(msg(id, { ts: '2025-01-15T10:00:00Z' }));
    await store.insert(msg('later', { ts: '2025-01-15T10:00:00.5Z' }));
    await store.insert(msg('earlier', { ts: '2025-01-15T09:59:59.999999999Z' }));
    await store.insert(msg('same-instant-other-text', { ts: '2025-01-15T10:00:00.000Z' }));
    const bytes = [...sameInstant, 'same-instant-other-text'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const expected = ['earlier', ...bytes, 'later'];
    assert.deepEqual((await ids(store)).ids, expected);
    assert.deepEqual((await walk(store, NONE, 4)).ids, expected, 'scan pages keep the same order');
    assert.deepEqual((await ids(store, { limit: 3, offset: 11 })).ids, expected.slice(11, 14));
  });

  withBackend('filters: from, since (at or after), until (before), q; combined with AND; total ignores limit and offset', async ({ store }) => {
    const rows = [
      msg('f1', { from: '+100', ts: '2025-01-01T00:00:00Z', text: 'Hello ÉCOLE' }),
      msg('f2', { from: '+100', ts: '2025-01-02T00:00:00Z', text: 'nothing here' }),
      msg('f3', { from: '+200', ts: '2025-01-02T00:00:00.5Z', text: 'école du soir' }),
      msg('f4', { from: '+200', ts: '2025-01-03T00:00:00Z', text: null }),
      msg('f5', { from: '+100', ts: '2025-01-04T00:00:00Z', text: 'STRASSE' }),
    ];
    await store.insertMany(rows);
    assert.deepEqual(await ids(store, { from: '+100' }), { ids: ['f1', 'f2', 'f5'], total: 3 });
    assert.deepEqual(await ids(store, { from: '+999' }), { ids: [], total: 0 });
    assert.deepEqual(await ids(store, { since: key('2025-01-02T00:00:00Z') }), { ids: ['f2', 'f3', 'f4', 'f5'], total: 4 });
    assert.deepEqual(await ids(store, { until: key('2025-01-02T00:00:00.5Z') }), { ids: ['f1', 'f2'], total: 2 });
    assert.deepEqual(await ids(store, { q: 'école' }), { ids: ['f1', 'f3'], total: 2 });
    assert.deepEqual(await ids(store, { q: 'straße' }), { ids: ['f5'], total: 1 }, 'the same fold on both sides (ß → ss)');
    assert.deepEqual(await ids(store, { q: 'e', from: '+100', since: key('2025-01-02T00:00:00Z') }), { ids: ['f2', 'f5'], total: 2 });
    assert.deepEqual(await ids(store, { from: '+100', limit: 1, offset: 1 }), { ids: ['f2'], total: 3 });
    assert.deepEqual(await ids(store, { limit: 2, offset: 10 }), { ids: [], total: 5 });
    assert.deepEqual(await ids(store, { q: 'e', limit: 1 }), { ids: ['f1'], total: 4 });
    assert.deepEqual((await walk(store, { ...NONE, from: '+200', q: 'soir' }, 10)).ids, ['f3']);
  });

  withBackend('q is literal: % _ and \\ are characters, NUL and control characters match only themselves, no text never matches', async ({ store }) => {
    const texts: Record<string, string | null> = {
      pct: '100% sure', under: 'snake_case', plain: 'abc', slash: 'back\\slash', nul: 'x\u0000y', one: 'z\u0001', two: '\u0000\u0002', none: null, star: 'a*b.c(d)[e]',
    };
    await store.insertMany(Object.entries(texts).map(([id, text]) => msg(id, { text })));
    const q = async (text: string): Promise<string[]> => (await ids(store, { q: text })).ids.sort();
    assert.deepEqual(await q('%'), ['pct']);
    assert.deepEqual(await q('_'), ['under']);
    assert.deepEqual(await q('\\'), ['slash']);
    assert.deepEqual(await q('\u0000'), ['nul', 'two']);
    assert.deepEqual(await q('\u0000y'), ['nul']);
    assert.deepEqual(await q('\u0001'), ['one'], 'U+0001 is not found inside an escaped NUL');
    assert.deepEqual(await q('\u0002'), ['two'], 'U+0002 is not found inside an escaped U+0001');
    assert.deepEqual(await q('.c('), ['star']);
    assert.deepEqual(await q('*'), ['star']);
    const replay = await store.replay(0, { from: null, q: '\u0001' }, 100);
    assert.ok(replay.ok);
    assert.deepEqual(replay.replay.arrivals.map((a) => a.message.message_id), ['one']);
  });

  withBackend('scan and list: keyset pages in list order, with the position to go on from', async ({ store }) => {
    const tss = ['2025-01-15T10:00:00.5Z', '2025-01-15T10:00:00Z', '2025-01-15T10:00:00Z', '2025-01-14T00:00:00Z', '2025-01-16T00:00:00Z'];
    for (const [i, ts] of tss.entries()) await store.insert(msg(`k${i}`, { ts }));
    const order = ['k3', 'k1', 'k2', 'k0', 'k4'];
    assert.deepEqual((await walk(store, NONE, 2)).ids, order);
    const first = await store.list(list({ limit: 2 }));
    assert.ok(first.ok && first.page.next !== null);
    assert.deepEqual(first.page.next, { tsKey: key(tss[1] ?? ''), messageId: 'k1' });
    const second = await store.list(list({ limit: 2, after: first.page.next }));
    assert.ok(second.ok);
    assert.deepEqual([second.page.total, second.page.data.map((r) => r.message_id)], [5, ['k2', 'k0']]);
    const sinceAfter = await store.list(list({ limit: 2, after: first.page.next, since: key('2025-01-15T00:00:00Z') }));
    assert.ok(sinceAfter.ok);
    assert.deepEqual([sinceAfter.page.total, sinceAfter.page.data.map((r) => r.message_id)], [4, ['k2', 'k0']], 'total counts every match, the cursor only moves the page');
    // Newest first: the same rows reversed, by offset and by position.
    const newest = await store.list(list({ limit: 2, order: 'desc' }));
    assert.ok(newest.ok && newest.page.next !== null);
    assert.deepEqual(newest.page.data.map((r) => r.message_id), ['k4', 'k0']);
    const older = await store.list(list({ limit: 2, after: newest.page.next, order: 'desc' }));
    assert.ok(older.ok);
    assert.deepEqual([older.page.total, older.page.data.map((r) => r.message_id)], [5, ['k2', 'k1']]);
    const skipped = await store.list(list({ limit: 3, offset: 3, order: 'desc' }));
    assert.ok(skipped.ok && skipped.page.next === null);
    assert.deepEqual(skipped.page.data.map((r) => r.message_id), ['k1', 'k3']);
    const last = await store.list(list({ limit: 5 }));
    assert.ok(last.ok && last.page.next === null, 'no position when nothing follows');
    const until = await store.scan({ ...NONE, until: key('2025-01-15T10:00:00.5Z') }, null, 10);
    assert.ok(until.ok);
    assert.deepEqual(until.page.rows.map((r) => r.message_id), ['k3', 'k1', 'k2']);
    assert.equal(until.page.next, null);
    const nul = await store.list(list({ after: { tsKey: key('2025-01-15T10:00:00Z'), messageId: 'k1\u0000' } }));
    assert.ok(nul.ok);
    assert.deepEqual(nul.page.data.map((r) => r.message_id), ['k2', 'k0', 'k4'], 'a position between ids that differ by a NUL');
  });

  withBackend('scan and replay pages stop at a byte budget with large texts, and the walk still covers every row', async ({ store }) => {
    const big = 'x'.repeat(4096);
    const rows = Array.from({ length: 300 }, (_, i) => msg(`big${String(i).padStart(3, '0')}`, { text: `${big}${i}` }));
    for (let i = 0; i < rows.length; i += 100) await store.insertMany(rows.slice(i, i + 100));
    const scanned = await walk(store, NONE, 1000);
    assert.deepEqual(scanned.ids, rows.map((r) => r.messageId));
    assert.ok(scanned.pages.length > 1 && Math.max(...scanned.pages) < 300, `pages of ${scanned.pages.join(', ')} rows`);
    const replayed: string[] = [];
    let after = 0;
    for (let n = 0; n < 100; n += 1) {
      const page = await store.replay(after, { from: null, q: null }, 500);
      assert.ok(page.ok);
      replayed.push(...page.replay.arrivals.map((a) => a.message.message_id));
      after = page.replay.arrivals.at(-1)?.seq ?? after;
      if (!page.replay.more) break;
      assert.ok(page.replay.arrivals.length < 300);
    }
    assert.deepEqual(replayed, rows.map((r) => r.messageId));
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
    assert.equal(filtered.replay.head, seqs[6], 'the head is the store\'s, not the filter\'s');
    const none = await store.replay(seqs[6] ?? 0, { from: null, q: null }, 10);
    assert.ok(none.ok && none.replay.arrivals.length === 0 && none.replay.head === seqs[6]);
    const empty = await store.replay(0, { from: '+nobody', q: null }, 10);
    assert.ok(empty.ok && empty.replay.arrivals.length === 0 && empty.replay.head === seqs[6] && !empty.replay.more);
  });

  withBackend('stats: totals, the top 10 senders (count descending, then from), first and last by instant; empty store; exact after ad-hoc deletes', async (backend) => {
    const { store } = backend;
    const empty = await store.stats();
    assert.ok(empty.ok);
    assert.deepEqual(empty.stats, { total_messages: 0, senders_count: 0, messages_per_sender: [], first_message_ts: null, last_message_ts: null });
    const rows = [];
    for (let s = 0; s < 12; s += 1) for (let n = 0; n <= s % 4; n += 1) rows.push(msg(`st-${s}-${n}`, { from: `+1${String(s).padStart(2, '0')}`, ts: `2025-02-${String(10 + s).padStart(2, '0')}T00:00:00Z` }));
    rows.push(msg('st-first', { from: '+100', ts: '2025-01-01T00:00:00.5Z' }), msg('st-last', { from: '+111', ts: '2025-03-01T00:00:00.000Z' }));
    await store.insertMany(rows);
    const stats = await store.stats();
    assert.ok(stats.ok);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.from, (counts.get(r.from) ?? 0) + 1);
    const top = [...counts].map(([from, count]) => ({ from, count })).sort((a, b) => b.count - a.count || (a.from < b.from ? -1 : 1)).slice(0, 10);
    assert.deepEqual(stats.stats, { total_messages: rows.length, senders_count: 12, messages_per_sender: top, first_message_ts: '2025-01-01T00:00:00.5Z', last_message_ts: '2025-03-01T00:00:00.000Z' });

    await backend.deleteMessages(['st-11-0', 'st-11-1', 'st-11-2', 'st-11-3', 'st-last', 'st-3-0']);
    const after = await store.stats();
    assert.ok(after.ok);
    assert.equal(after.stats.total_messages, rows.length - 6);
    assert.equal(after.stats.senders_count, 11, '+111 has no message left');
    assert.equal(after.stats.last_message_ts, '2025-02-20T00:00:00Z');
    assert.equal(after.stats.messages_per_sender.find((s) => s.from === '+103')?.count, 3);
    assert.deepEqual(await ids(store, { from: '+103', limit: 1 }).then((r) => r.total), 3, 'a sender\'s total follows the deletes too');
    const reopened = await backend.reopen();
    const again = await reopened.stats();
    assert.ok(again.ok);
    assert.deepEqual(again.stats, after.stats);
  });
}

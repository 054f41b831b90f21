// The trigram index for `q` (migration 6) gives exactly the scan's answers: for random and hostile
// terms over tricky texts, every page, total, cursor, export page and replay page equals what the
// definition (instr over text_fold, the filters, the list order) gives — with part of the table not
// yet indexed, after ad-hoc deletes, updates and inserts below the watermark, and after a restart
// in the middle of the backfill.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { foldText } from '../../src/domain/fold.ts';
import { instantKey } from '../../src/domain/timestamp.ts';
import { openDatabase, type Database } from '../../src/storage/sqlite/database.ts';
import { createSearchIndexer } from '../../src/storage/sqlite/search-index.ts';
import { MAX_PHRASE, searchOf } from '../../src/storage/sqlite/search.ts';
import type { ListFilter, MatchFilter, NewMessage, Position } from '../../src/storage/store.ts';
import { bodyOf, freshService, message, seed, tempDir } from '../helpers/service.ts';
import { prng } from '../../scripts/lib/seed-data.ts'; // mulberry32: a failure replays from its seed

const PIECES = [
  'ab', 'abc', 'kalo', 'zebra', 'ß', 'SS', 'ẞ', 'İ', 'ı', 'i', 'ς', 'Σ', 'σ', '%', '_', '*', '?', '[', ']', '[a]', '"', '""', "'",
  ' ', '  ', '\t', '\n', '\u0000', '\u0001', 'é', 'e\u0301', 'É', '😀', '👩‍👩‍👧', '\ud800', 'К', 'к', 'ᏣᎳᎩ', 'ꮳ', 'aaa', 'a', 'NEAR', 'AND', 'OR',
  '-', ':', '^', '(', ')', 'text_fold:', '\\', 'ﬀ', 'Ǆ', 'ǅ', '\u{10400}', '\u{10428}',
];
const SENDERS = ['+15550000001', '+15550000002', '+15550000003'];

function randomText(random: () => number): string | null {
  if (random() < 0.05) return null;
  const n = 1 + Math.floor(random() * 12);
  return Array.from({ length: n }, () => PIECES[Math.floor(random() * PIECES.length)] ?? '').join(random() < 0.5 ? '' : ' ');
}

function messages(random: () => number, from: number, count: number): NewMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    // Few distinct instants, so ties on ts break by message_id; fractions of different lengths.
    const ts = `2024-01-0${1 + Math.floor(random() * 3)}T00:00:0${Math.floor(random() * 3)}${random() < 0.5 ? '' : '.5'}Z`;
    const tsKey = instantKey(ts);
    if (tsKey === null) throw new Error(ts);
    return { messageId: `m-${String(n).padStart(4, '0')}${random() < 0.2 ? 'é' : ''}`, from: SENDERS[Math.floor(random() * SENDERS.length)] ?? '', to: '+15559990000', ts, tsKey, text: randomText(random), createdAt: '2024-01-01T00:00:00Z' };
  });
}

function terms(random: () => number, texts: readonly string[], count: number): string[] {
  const fixed = ['%', '_', '%_', '*', '?', '[a]', '[', '"', '""', 'a"b', 'NEAR', 'AND', 'a AND b', 'OR', '^', '-', ':', 'text_fold:', '\u0000', 'a\u0000b', 'ab\u0000',
    '\u0001', ' ', '  ', 'b a', 'x'.repeat(5000), 'abc'.repeat(40), 'kalo', 'KALO', 'zebracorn', 'ss', 'SS', 'ß', 'sss', 'İ', 'i̇', 'ı', 'σσ', 'ΣΣ', 'é', 'e\u0301',
    '😀', '😀😀😀', '\ud800', '\ufffd', '\ud800ab', 'ᏣᎳᎩ', 'ﬀ', 'ff', 'ǆ', '\u{10400}', '\u{10428}\u{10428}', 'aaa', 'aaaa', 'a', 'ab', 'abc', 'abcab', 'qqqq'];
  const random_: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const text = texts[Math.floor(random() * texts.length)] ?? 'ab';
    const points = [...(random() < 0.5 ? text : text.toUpperCase())];
    const length = 1 + Math.floor(random() * (MAX_PHRASE + 6));
    const start = Math.floor(random() * Math.max(1, points.length - length));
    random_.push(points.slice(start, start + length).join(''));
  }
  return [...fixed, ...random_];
}

type Row = { messageId: string; from: string; tsKey: string; seq: number };

/** The definition: instr over text_fold, the filters, the list order (byte order of message_id). */
function reference(conn: DatabaseSync, filter: MatchFilter): Row[] {
  const rows = conn.prepare(
    `SELECT rowid AS seq, message_id, from_msisdn, ts_key FROM messages
      WHERE instr(text_fold, $q) > 0 AND ($from IS NULL OR from_msisdn = $from) AND ($since IS NULL OR ts_key >= $since) AND ($until IS NULL OR ts_key < $until)
      ORDER BY ts_key, message_id`,
  ).all({ $q: foldText(filter.q ?? ''), $from: filter.from, $since: filter.since, $until: filter.until });
  return rows.map((r) => ({ messageId: String(r['message_id']), from: String(r['from_msisdn']), tsKey: String(r['ts_key']), seq: Number(r['seq']) }));
}

const FILTERS: readonly Omit<MatchFilter, 'q'>[] = [
  { from: null, since: null, until: null },
  { from: SENDERS[0] ?? null, since: null, until: null },
  { from: null, since: instantKey('2024-01-02T00:00:00Z'), until: null },
  { from: SENDERS[1] ?? null, since: instantKey('2024-01-01T00:00:01Z'), until: instantKey('2024-01-03T00:00:01.5Z') },
];

function check(db: Database, conn: DatabaseSync, qs: readonly string[], label: string): void {
  for (const q of qs) {
    for (const base of FILTERS) {
      const filter: MatchFilter = { ...base, q };
      const want = reference(conn, filter);
      const ids = want.map((r) => r.messageId);
      const at = `${label}: q=${JSON.stringify(q.slice(0, 40))} filter=${JSON.stringify(base)}`;
      // Offset pages, both orders.
      for (const order of ['asc', 'desc'] as const) {
        const ordered = order === 'asc' ? ids : [...ids].reverse();
        for (const [offset, limit] of [[0, 50], [0, 3], [2, 5], [ids.length, 10]] as const) {
          const page = db.list({ ...filter, limit, offset, after: null, order });
          assert.equal(page.total, ids.length, `${at} total ${order}`);
          assert.deepEqual(page.data.map((m) => m.message_id), ordered.slice(offset, offset + limit), `${at} offset ${offset} ${order}`);
        }
        // Cursor pages to the end.
        let after: Position | null = null;
        const walked: string[] = [];
        for (let i = 0; i <= ids.length; i += 1) {
          const listFilter: ListFilter = { ...filter, limit: 4, offset: 0, after, order };
          const page = db.list(listFilter);
          assert.equal(page.total, ids.length, `${at} cursor total`);
          walked.push(...page.data.map((m) => m.message_id));
          if (page.next === null) break;
          after = page.next;
        }
        assert.deepEqual(walked, ordered, `${at} cursor walk ${order}`);
      }
      // Export pages.
      const exported: string[] = [];
      let after: Position | null = null;
      for (let i = 0; i <= ids.length; i += 1) {
        const page = db.scan(filter, after, 7);
        exported.push(...page.rows.map((m) => m.message_id));
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(exported, ids, `${at} export`);
      // Replay pages (no since/until there), in seq order.
      if (base.since === null) {
        const arrivals = [...want].sort((a, b) => a.seq - b.seq);
        const got: number[] = [];
        let seq = 0;
        for (let i = 0; i <= arrivals.length; i += 1) {
          const replay = db.replay(seq, { from: base.from, q }, 5);
          got.push(...replay.arrivals.map((a) => a.seq));
          const last = replay.arrivals.at(-1);
          if (!replay.more || last === undefined) break;
          seq = last.seq;
        }
        assert.deepEqual(got, arrivals.map((a) => a.seq), `${at} replay`);
      }
    }
  }
}

function indexedUpto(conn: DatabaseSync): number {
  return Number(conn.prepare('SELECT indexed_upto AS n FROM search_state WHERE id = 1').get()?.['n']);
}

test('q through the index equals the scan: random texts and terms, the unindexed tail, ad-hoc deletes, updates and inserts, a restart mid-backfill', (t) => {
  const seed = 1313;
  const random = prng(seed);
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'search.db');
  let { db } = openDatabase({ path, busyTimeoutMs: 2_000, role: 'writer' });
  const conn = new DatabaseSync(path);
  conn.exec('PRAGMA busy_timeout = 2000');
  t.after(() => {
    db.close();
    conn.close();
  });
  const insert = (batch: NewMessage[]): void => {
    for (const r of db.insertBatch(batch)) assert.ok(r.ok);
  };
  const texts = (): string[] => conn.prepare('SELECT text FROM messages WHERE text IS NOT NULL').all().map((r) => String(r['text']));

  insert(messages(random, 0, 250));
  const indexer = createSearchIndexer(conn, 60);
  // Nothing indexed yet: all a scanned tail.
  const qs = terms(random, texts(), 25);
  check(db, conn, qs, 'nothing indexed');
  // Part indexed, part tail (and merges in between).
  for (let i = 0; i < 3; i += 1) indexer.step();
  assert.ok(indexedUpto(conn) > 0 && indexedUpto(conn) < 250);
  check(db, conn, terms(random, texts(), 25), 'part indexed');

  // A restart mid-backfill: the watermark and the index persist; the writer's own steps finish it.
  db.close();
  ({ db } = openDatabase({ path, busyTimeoutMs: 2_000, role: 'writer' }));
  assert.ok(indexedUpto(conn) > 0 && indexedUpto(conn) < 250);
  while (db.indexStep());
  assert.equal(indexedUpto(conn), 250);
  insert(messages(random, 250, 80)); // a new tail
  check(db, conn, terms(random, texts(), 25), 'indexed with a tail');

  // Ad-hoc SQL behind the service's back: deletes, a changed text_fold, a rowid moved below the
  // watermark, an insert (SQLite numbers it above every row, so in the tail).
  while (indexer.step());
  conn.exec(`DELETE FROM messages WHERE rowid % 7 = 0`);
  conn.prepare(`UPDATE messages SET text = 'changed ZEBRACORN abc', text_fold = 'changed zebracorn abc' WHERE rowid % 11 = 0`).run();
  conn.prepare(`UPDATE messages SET text_fold = NULL, text = NULL WHERE rowid % 13 = 0`).run();
  conn.exec(`UPDATE messages SET rowid = 7 WHERE rowid = 8`); // to a deleted row's place
  conn.exec(`UPDATE messages SET rowid = 100000 WHERE rowid = 9`); // above the watermark
  conn.prepare(`INSERT INTO messages (message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key, text_fold) VALUES ('ad-hoc', ?, '+1', '2024-01-02T00:00:00Z', 'Ad hoc kalo', 'x', ?, 'ad hoc kalo')`)
    .run(SENDERS[0] ?? '', instantKey('2024-01-02T00:00:00Z'));
  check(db, conn, [...terms(random, texts(), 25), 'zebracorn', 'changed', 'ad hoc', 'kalo'], 'after ad-hoc changes');
  // The rebuild README describes (after an insert by hand with a reused rowid): empty the index, reset the mark.
  conn.exec(`INSERT INTO messages_search (messages_search) VALUES ('delete-all'); UPDATE search_state SET indexed_upto = 0`);
  check(db, conn, ['zebracorn', 'kalo', 'abc'], 'index emptied');
  for (let i = 0; i < 2; i += 1) indexer.step();
  check(db, conn, terms(random, texts(), 10), 'index partly rebuilt');
  while (db.indexStep());
  insert(messages(random, 330, 40));
  check(db, conn, terms(random, texts(), 25), 'after ad-hoc changes, indexed again');
});

test('the index answers only terms it can answer exactly or recheck: short terms, NUL and long terms', () => {
  assert.equal(searchOf('ab').match, null);
  assert.equal(searchOf('a\u0000bc').match, null);
  assert.equal(searchOf('😀😀').match, null);
  assert.deepEqual(searchOf('😀😀😀'), { fold: '😀😀😀', match: '"😀😀😀"', exact: true });
  assert.deepEqual(searchOf('A"B'), { fold: 'a"b', match: '"a""b"', exact: true });
  assert.equal(searchOf('ß').match, null); // folds to 'ss': still two code points
  assert.equal(searchOf('ßa').match, '"ssa"');
  const long = searchOf('x'.repeat(MAX_PHRASE + 1));
  assert.equal(long.exact, false);
  assert.equal(long.match, `"${'x'.repeat(MAX_PHRASE)}"`);
});

test('hostile q over HTTP once the service has indexed: huge, control characters, FTS5 and LIKE/GLOB syntax', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'hostile.db');
  const svc = await freshService(t, { dbPath });
  const texts: Record<string, string> = {
    'h-meta': 'a%b_c*d?e[f]g "quoted" NEAR(x y) AND OR NOT ^start col:umn',
    'h-ctrl': 'tab\there\u0001\u001f bell\u0007 nul\u0000after',
    'h-long': 'y'.repeat(4000),
    'h-plain': 'nothing special here',
  };
  await seed(svc, Object.entries(texts).map(([message_id, text]) => message({ message_id, text })));
  // The writer indexes after a moment without inserts; wait until every row is below the watermark.
  const probe = new DatabaseSync(dbPath, { readOnly: true });
  t.after(() => probe.close());
  for (let i = 0; i < 200 && indexedUpto(probe) < 4; i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(indexedUpto(probe), 4);
  const found = async (q: string): Promise<string[]> => {
    const res = await svc.get(`/messages?q=${encodeURIComponent(q)}`);
    assert.equal(res.status, 200, JSON.stringify(q.slice(0, 20)));
    return (await bodyOf(res)).data.map((m: { message_id: string }) => m.message_id);
  };
  for (const q of ['%b_', '_c*', 'd?e', '[f]', '"quoted"', '"quo', 'NEAR(x', 'AND OR NOT', '^start', 'col:umn', 'b_c*d?e[f]g "quoted" NEAR(x y)']) {
    assert.deepEqual(await found(q), ['h-meta'], q);
  }
  for (const q of ['\there', '\u0001\u001f', 'bell\u0007', 'nul\u0000after', '\u0000']) assert.deepEqual(await found(q), ['h-ctrl'], JSON.stringify(q));
  assert.deepEqual(await found('Y'.repeat(4000)), ['h-long']);
  assert.deepEqual(await found('y'.repeat(4001)), []);
  assert.deepEqual(await found('\u0002\u0003\u0004'), []);
  assert.deepEqual(await found('"'), ['h-meta']);
  assert.deepEqual(await found('""'), []);
});

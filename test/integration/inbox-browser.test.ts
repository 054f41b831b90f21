// The inbox page in a real browser (Debian's headless Chromium over the DevTools protocol; see
// test/helpers/browser.ts) against the real service on port 0, each test on its own database:
// a clean load, live arrival, text that stays text, search, sender filter, cursor paging, the read
// token, a restart of the service, the keyboard, and screenshots at a phone's and a desktop's size
// in light and dark mode (written to the folder the test prints; INBOX_SCREENSHOTS chooses it).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { haveChromium, launchBrowser, type Browser, type Page } from '../helpers/browser.ts';
import { freshService, message, seed, startTestService, tempDir, type TestService, type TestServiceOptions } from '../helpers/service.ts';
import { openWorkerStore } from '../../src/storage/sqlite/worker-store.ts';
import type { Store } from '../../src/storage/store.ts';

type TestContext = { after(fn: () => unknown): void; diagnostic(message: string): void; skip(message?: string): void };

let launched: Promise<Browser> | undefined;
const browser = (): Promise<Browser> => (launched ??= launchBrowser());
after(async () => {
  if (launched !== undefined) await (await launched).close();
});

const ROWS = `[...document.querySelectorAll('#messages > li')].map((li) => li.dataset.id)`;
const liveState = `document.getElementById('live').dataset.state`;
const rowCount = (n: number): string => `document.querySelectorAll('#messages > li').length === ${n}`;
const hasRow = (id: string): string => `document.querySelector('#messages > li[data-id=${JSON.stringify(id)}]')`;

async function newPage(t: TestContext): Promise<Page> {
  const page = await (await browser()).newPage();
  t.after(() => page.close());
  return page;
}

/** A service of this test's own and a fresh page on its inbox, open and live. */
async function openInbox(t: TestContext, options: TestServiceOptions = {}): Promise<{ svc: TestService; page: Page } | null> {
  if (!haveChromium(t)) return null;
  const svc = await freshService(t, options);
  const page = await newPage(t);
  await page.viewport(1440, 900, 'light');
  await page.goto(`${svc.url}/inbox`);
  return { svc, page };
}

function assertClean(page: Page): Promise<void> {
  return page.evaluate<string[]>('window.__violations').then((violations) => {
    assert.deepEqual(violations, [], 'no CSP violations (securitypolicyviolation events)');
    assert.deepEqual(page.problems, [], 'no console errors, exceptions, CSP reports or dialogs');
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

describe('the inbox page in headless Chromium', { timeout: 180_000 }, () => {
  it('loads with no console error and no CSP violation, shows the empty state, then every POSTed message within 2 s, without a reload', async (t) => {
    const opened = await openInbox(t);
    if (opened === null) return;
    const { svc, page } = opened;
    await page.waitFor(`${liveState} === 'live'`, 10_000, 'the live state');
    await page.waitFor(`document.getElementById('list-state').textContent.startsWith('No messages yet')`, 5_000, 'the empty state');
    assert.equal(await page.evaluate(`document.getElementById('live-text').textContent`), 'Live');

    // First render, from the browser's own paint timing (relative to the navigation's start).
    const paints = await page.evaluate<Record<string, number>>(`Object.fromEntries(performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]))`);
    const navigation = await page.evaluate<{ domContentLoaded: number; load: number }>(`(() => { const n = performance.getEntriesByType('navigation')[0]; return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd }; })()`);
    assert.ok(typeof paints['first-contentful-paint'] === 'number', JSON.stringify(paints));
    const lifecycle = Object.fromEntries(page.lifecycle.map((e) => [e.name, e.timestamp]));
    const fcpLifecycle = lifecycle['firstContentfulPaint'] !== undefined && lifecycle['init'] !== undefined ? (lifecycle['firstContentfulPaint'] - lifecycle['init']) * 1000 : NaN;
    t.diagnostic(`first paint ${paints['first-paint']?.toFixed(1)} ms, first contentful paint ${paints['first-contentful-paint']?.toFixed(1)} ms (DevTools lifecycle: ${fcpLifecycle.toFixed(1)} ms from init), DOMContentLoaded ${navigation.domContentLoaded.toFixed(1)} ms, load ${navigation.load.toFixed(1)} ms`);

    // Each delivery shows up without a reload; the time is from just before the POST to the row's
    // insertion into the page (both read from clocks with the same epoch origin).
    await page.evaluate(`window.__seen = {}; new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) if (n.dataset && n.dataset.id) window.__seen[n.dataset.id] = performance.timeOrigin + performance.now(); }).observe(document.getElementById('messages'), { childList: true })`);
    const delays: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const m = message({ message_id: `live-${i}`, ts: `2026-01-01T00:00:0${i}Z`, text: `live number ${i}` });
      const sent = performance.timeOrigin + performance.now();
      const res = await svc.deliver(m);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const seenAt = await page.waitFor<number>(`window.__seen[${JSON.stringify(m['message_id'])}]`, 2_000, `live-${i} on screen`);
      delays.push(seenAt - sent);
    }
    t.diagnostic(`POST to on screen: median ${median(delays).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms over ${delays.length} (${delays.map((d) => d.toFixed(1)).join(', ')})`);
    assert.ok(Math.max(...delays) < 2_000);
    assert.deepEqual(await page.evaluate(ROWS), ['live-6', 'live-5', 'live-4', 'live-3', 'live-2', 'live-1', 'live-0'], 'newest first');
    assert.equal(await page.evaluate(`document.getElementById('count').textContent`), '(7 of 7 messages)');
    await page.waitFor(`document.getElementById('stat-total').textContent === '7'`, 5_000, 'the figures refreshed');
    assert.equal(await page.evaluate(`document.querySelectorAll('#chart > li').length`), 1);
    const reloads = page.requests.filter((u) => new URL(u).pathname === '/inbox').length;
    assert.equal(reloads, 1, 'the page was never reloaded');
    await assertClean(page);
  });

  it('a message whose text is markup shows as that text, and no script of it runs', async (t) => {
    const opened = await openInbox(t);
    if (opened === null) return;
    const { svc, page } = opened;
    const hostile = '<img src=x onerror=alert(1)>';
    await seed(svc, [message({ message_id: 'xss-seeded', text: hostile, ts: '2026-01-01T00:00:00Z' })]);
    await page.goto(`${svc.url}/inbox`); // seeded before this load: it comes through the list
    await page.waitFor(hasRow('xss-seeded'), 5_000);
    await page.waitFor(`${liveState} === 'live'`, 10_000);
    const others = ['<script>window.__pwned = 1</script>', '"><svg onload=alert(2)>', '<b>bold</b>&amp;'];
    await seed(svc, others.map((text, i) => message({ message_id: `xss-live-${i}`, text, ts: `2026-01-01T00:00:1${i}Z`, from: '+15550001111' })));
    await page.waitFor(rowCount(4), 2_000, 'the live ones');

    const shown = await page.evaluate<Record<string, string>>(`Object.fromEntries([...document.querySelectorAll('#messages > li')].map((li) => [li.dataset.id, li.querySelector('.snippet').textContent]))`);
    assert.deepEqual(shown, { 'xss-seeded': hostile, 'xss-live-0': others[0], 'xss-live-1': others[1], 'xss-live-2': others[2] });
    assert.equal(await page.evaluate(`document.querySelectorAll('#messages img, #messages script, #messages svg, #messages b').length`), 0, 'no element made from a text');
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    // The detail dialog shows it as text too.
    await page.click(`#messages > li[data-id="xss-seeded"] .open`);
    await page.waitFor(`document.getElementById('detail').open`);
    assert.equal(await page.evaluate(`document.getElementById('detail-text').textContent`), hostile);
    assert.equal(await page.evaluate(`document.querySelectorAll('#detail img').length`), 0);
    assert.ok(!page.requests.some((u) => new URL(u).pathname === '/x'), 'the img of the text was never requested');
    await assertClean(page); // an alert would be a dialog problem
  });

  it('search (q) and the sender filter narrow the list, the stream and the export link; Clear brings everything back', async (t) => {
    const opened = await openInbox(t);
    if (opened === null) return;
    const { svc, page } = opened;
    await seed(svc, [
      message({ message_id: 'f-1', from: '+15550000001', text: 'Invoice ÉTÉ 42', ts: '2026-01-01T00:00:01Z' }),
      message({ message_id: 'f-2', from: '+15550000002', text: 'hello there', ts: '2026-01-01T00:00:02Z' }),
      message({ message_id: 'f-3', from: '+15550000001', text: 'second invoice', ts: '2026-01-01T00:00:03Z' }),
      message({ message_id: 'f-4', from: '+15550000002', text: null, ts: '2026-01-01T00:00:04Z' }),
    ]);
    await page.waitFor(rowCount(4), 5_000, 'the live arrivals');

    await page.click('#q');
    await page.type('invoice');
    await page.press('Enter');
    await page.waitFor(`${rowCount(2)} && ${liveState} === 'live'`, 5_000, 'the search');
    assert.deepEqual(await page.evaluate(ROWS), ['f-3', 'f-1']);
    assert.equal(await page.evaluate('location.search'), '?q=invoice');
    assert.match(await page.evaluate<string>(`document.getElementById('export-csv').getAttribute('href')`), /^messages\/export\?q=invoice&format=csv$/);
    // The live tail is filtered the same way.
    await seed(svc, [message({ message_id: 'f-5', from: '+15550000002', text: 'INVOICE again', ts: '2026-01-01T00:00:05Z' }), message({ message_id: 'f-6', text: 'unrelated', ts: '2026-01-01T00:00:06Z' })]);
    await page.waitFor(hasRow('f-5'), 2_000);
    assert.deepEqual(await page.evaluate(ROWS), ['f-5', 'f-3', 'f-1']);

    // The sender filter, from the chart's bar (both filters at once), then typed without its +.
    await page.waitFor(`document.querySelectorAll('#chart .sender').length === 3`, 5_000, 'the chart');
    await page.click(`#chart .sender[aria-label^="+15550000001:"]`);
    await page.waitFor(`${rowCount(2)} && document.getElementById('sender').value === '+15550000001'`, 5_000, 'the sender filter');
    assert.deepEqual(await page.evaluate(ROWS), ['f-3', 'f-1']);
    await page.click('#clear');
    await page.waitFor(rowCount(6), 5_000, 'everything again');
    await page.click('#sender');
    await page.type('15550000002');
    await page.press('Enter');
    await page.waitFor(`${rowCount(3)} && ${liveState} === 'live'`, 5_000, 'the typed sender');
    assert.deepEqual(await page.evaluate(ROWS), ['f-5', 'f-4', 'f-2']);
    assert.equal(await page.evaluate(`document.getElementById('sender').value`), '+15550000002');
    // A sender that is not one says so and keeps the list as it was.
    await page.evaluate(`document.getElementById('sender').value = 'bob'`);
    await page.click('#filters button[type=submit]');
    await page.waitFor(`document.getElementById('sender').getAttribute('aria-invalid') === 'true'`);
    assert.equal(await page.evaluate(`document.activeElement.id`), 'sender');
    await page.click('#clear');
    await page.waitFor(rowCount(6), 5_000);
    // No match at all: its own state.
    await page.click('#q');
    await page.type('nothing like this');
    await page.press('Enter');
    await page.waitFor(`document.getElementById('list-state').textContent === 'No messages match these filters.'`, 5_000);
    await assertClean(page);
  });

  it('"Load older" pages by cursor, newest first, to the very first message, each once', async (t) => {
    if (!haveChromium(t)) return;
    const svc = await freshService(t);
    const all = Array.from({ length: 123 }, (_, i) => message({ message_id: `p-${String(i).padStart(3, '0')}`, ts: `2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, text: `page item ${i}` }));
    await seed(svc, all);
    const page = await newPage(t);
    await page.viewport(1440, 900, 'light');
    await page.goto(`${svc.url}/inbox`);
    await page.waitFor(`${rowCount(50)} && ${liveState} === 'live'`, 5_000);
    assert.equal(await page.evaluate(`document.getElementById('older').hidden`), false);
    // A live arrival older than every row shown, while older pages remain: counted now, shown in its
    // place when paging reaches it (not on top, not twice).
    await seed(svc, [message({ message_id: 'p-late', ts: '2025-12-31T23:59:59Z', text: 'late and old' })]);
    await page.waitFor(`document.getElementById('count').textContent === '(50 of 124 messages)'`, 2_000, 'the count');
    assert.equal(await page.evaluate(hasRow('p-late')), null);
    await page.click('#older');
    await page.waitFor(rowCount(100), 5_000);
    await page.click('#older');
    await page.waitFor(`${rowCount(124)} && document.getElementById('older').hidden`, 5_000, 'the last page');
    const expected = [...all.map((m) => m['message_id']).reverse(), 'p-late'];
    assert.deepEqual(await page.evaluate(ROWS), expected);
    const pages = page.requests.filter((u) => new URL(u).pathname === '/messages').map((u) => new URL(u).searchParams);
    assert.equal(pages.length, 3);
    assert.equal(pages[0]?.get('cursor'), null);
    assert.ok(pages.slice(1).every((p) => p.get('order') === 'desc' && /^[A-Za-z0-9_-]+$/.test(p.get('cursor') ?? '') && !p.has('offset')), 'the older pages are cursor pages');
    assert.equal(await page.evaluate(`document.getElementById('count').textContent`), '(124 of 124 messages)');
    await assertClean(page);
  });

  it('with READ_TOKEN: asks for the token, refuses a wrong one, shows the messages and the live tail with the right one, and exports with it', async (t) => {
    const token = 'inbox-Read-T0ken_42';
    const opened = await openInbox(t, { env: { READ_TOKEN: token } });
    if (opened === null) return;
    const { svc, page } = opened;
    await seed(svc, [message({ message_id: 'tok-1', text: 'behind the token' })]);
    await page.waitFor(`!document.getElementById('token-panel').hidden && document.activeElement.id === 'token-input'`, 5_000, 'the token prompt');
    assert.equal(await page.evaluate(liveState), 'token');
    assert.equal(await page.evaluate(`document.getElementById('app').hidden`), true);
    assert.equal(await page.evaluate(`document.getElementById('token-error').hidden`), true, 'no error before a token was tried');

    await page.type('not-the-token');
    await page.press('Enter');
    await page.waitFor(`!document.getElementById('token-error').hidden`, 5_000, 'the refusal');
    assert.match(await page.evaluate<string>(`document.getElementById('token-error').textContent`), /not accepted/);
    assert.equal(await page.evaluate(`sessionStorage.length`), 0, 'a refused token is not kept');

    await page.type(token);
    await page.press('Enter');
    await page.waitFor(`${hasRow('tok-1')} && ${liveState} === 'live'`, 5_000, 'the messages');
    assert.equal(await page.evaluate(`sessionStorage.getItem('webhook-api.inbox.read-token')`), token);
    await seed(svc, [message({ message_id: 'tok-2', ts: '2026-02-01T00:00:00Z' })]);
    await page.waitFor(hasRow('tok-2'), 2_000, 'the live tail');

    // The export link fetches with the header and saves from memory.
    await page.send('Browser.setDownloadBehavior', { behavior: 'deny' }).catch(() => {});
    await page.evaluate(`window.__saved = []; const click = HTMLAnchorElement.prototype.click; HTMLAnchorElement.prototype.click = function () { window.__saved.push(this.download); }`);
    await page.click('#export-ndjson');
    await page.waitFor(`window.__saved.length === 1`, 5_000, 'the export');
    assert.deepEqual(await page.evaluate('window.__saved'), ['messages.ndjson']);
    const exports = svc.accessLogs().filter((l) => l['path'] === '/messages/export');
    assert.deepEqual(exports.map((l) => l['status']), [200], 'the export was authorised');

    // A reload keeps the token (sessionStorage); "Forget token" asks again.
    await page.goto(`${svc.url}/inbox`);
    await page.waitFor(`${rowCount(2)} && ${liveState} === 'live'`, 5_000, 'the list after a reload');
    await page.click('#forget-token');
    await page.waitFor(`!document.getElementById('token-panel').hidden`, 5_000);
    assert.equal(await page.evaluate(`sessionStorage.length`), 0);
    const unauthorized = svc.accessLogs().filter((l) => l['status'] === 401);
    assert.ok(unauthorized.length >= 2);
    assert.ok(!svc.rawLog().includes(token), 'the token is never logged');
    await assertClean(page.problems.length > 0 ? { ...page, problems: page.problems.filter((p) => !/status of 401/.test(p.text)) } : page);
  });

  it('after the service restarts (same database, same port) the page shows "reconnecting", then resumes, missing nothing', async (t) => {
    if (!haveChromium(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'inbox-restart-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'app.db');
    const first = await startTestService({ dbPath });
    t.after(() => first.stop());
    const page = await newPage(t);
    await page.viewport(1440, 900, 'light');
    await page.goto(`${first.url}/inbox`);
    await page.waitFor(`${liveState} === 'live'`, 10_000);
    await seed(first, [message({ message_id: 'before', ts: '2026-01-01T00:00:00Z' })]);
    await page.waitFor(hasRow('before'), 2_000);

    await first.stop();
    await page.waitFor(`${liveState} === 'reconnecting'`, 5_000, 'the reconnecting state');
    assert.match(await page.evaluate<string>(`document.getElementById('live-text').textContent`), /reconnecting/i);
    // Stored while the page was disconnected (through another instance, on another port): only a
    // resume from the last id can bring it.
    const meanwhile = await startTestService({ dbPath });
    await seed(meanwhile, [message({ message_id: 'while-away', ts: '2026-01-01T00:00:01Z' })]);
    await meanwhile.stop();
    assert.equal(await page.evaluate(liveState), 'reconnecting');

    const again = await startTestService({ dbPath, env: { PORT: String(first.port) } });
    t.after(() => again.stop());
    await page.waitFor(`${liveState} === 'live' && ${hasRow('while-away')}`, 15_000, 'the resumed stream');
    await seed(again, [message({ message_id: 'after', ts: '2026-01-01T00:00:02Z' })]);
    await page.waitFor(hasRow('after'), 2_000);
    assert.deepEqual(await page.evaluate(ROWS), ['after', 'while-away', 'before'], 'each once, in order');
    assert.equal(page.requests.filter((u) => new URL(u).pathname === '/inbox').length, 1, 'no reload');
    // The first stream opened without an id; every reconnect resumed from the last id it had seen
    // (the id-only first block gave 0 on the empty database; 'before' was seq 1).
    const streams = page.sent.filter((r) => new URL(r.url).pathname === '/messages/stream').map((r) => Object.entries(r.headers).find(([name]) => name.toLowerCase() === 'last-event-id')?.[1] ?? null);
    assert.ok(streams.length >= 2, JSON.stringify(streams));
    assert.equal(streams[0], null);
    assert.deepEqual([...new Set(streams.slice(1))], ['1'], JSON.stringify(streams));
    // The failed reconnects while the service was down are the browser's network errors, nothing else.
    const others = page.problems.filter((p) => !/ERR_CONNECTION_REFUSED|net::ERR_/.test(p.text));
    assert.deepEqual(others, []);
    assert.deepEqual(await page.evaluate('window.__violations'), []);
  });

  it('a database that cannot be read: the error state with the service\'s reason and "Try again", which recovers', async (t) => {
    if (!haveChromium(t)) return;
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const real = (await openWorkerStore({ path: join(dir, 'app.db'), now: () => new Date() })).store;
    let failing = true;
    const down = { ok: false as const, error: new Error('SQLITE_IOERR: disk I/O error') };
    // The real store, with its reads failing while `failing` holds.
    const store: Store = {
      ...real,
      cursorKey: real.cursorKey,
      list: async (filter) => (failing ? down : real.list(filter)),
      stats: async () => (failing ? down : real.stats()),
      replay: async (after, filter, limit) => (failing ? down : real.replay(after, filter, limit)),
      subscribe: (listener) => real.subscribe(listener),
      close: () => real.close(),
    };
    const svc = await freshService(t, { store });
    await seed(svc, [message({ message_id: 'err-1', text: 'stored while reads fail' })]);
    const page = await newPage(t);
    await page.viewport(1440, 900, 'light');
    await page.goto(`${svc.url}/inbox`);
    await page.waitFor(`document.getElementById('list-state').classList.contains('error')`, 10_000, 'the error state');
    assert.match(await page.evaluate<string>(`document.getElementById('list-state').textContent`), /^The messages could not be read \(storage unavailable, HTTP 503\)\.Try again$/);
    assert.equal(await page.evaluate(liveState), 'reconnecting', 'the live tail cannot open either, and says so');

    failing = false;
    await page.click('#list-state button');
    await page.waitFor(`${hasRow('err-1')} && ${liveState} === 'live'`, 10_000, 'the recovery');
    assert.equal(await page.evaluate(`document.getElementById('list-state').textContent`), '');
    // The 503s are the browser's own network log lines; nothing else went wrong.
    assert.deepEqual(page.problems.filter((p) => !/status of 503/.test(p.text)), []);
    assert.deepEqual(await page.evaluate('window.__violations'), []);
  });

  it('works by keyboard: "/" to search, arrows between messages, Enter opens the detail, Escape closes it and focus returns', async (t) => {
    const opened = await openInbox(t);
    if (opened === null) return;
    const { svc, page } = opened;
    await seed(svc, [message({ message_id: 'k-1', text: 'first', ts: '2026-01-01T00:00:01Z' }), message({ message_id: 'k-2', text: 'second\nline two', to: '+14155550199', ts: '2026-01-01T00:00:02.123456789Z' })]);
    await page.waitFor(rowCount(2), 5_000);
    await page.press('/');
    assert.equal(await page.evaluate('document.activeElement.id'), 'q');
    await page.evaluate(`document.querySelector('#messages .open').focus()`);
    await page.press('ArrowDown');
    assert.equal(await page.evaluate(`document.activeElement.closest('li').dataset.id`), 'k-1');
    await page.press('ArrowUp');
    await page.press('Enter');
    await page.waitFor(`document.getElementById('detail').open`, 2_000, 'the detail');
    const detail = await page.evaluate<string[]>(`['detail-id', 'detail-from', 'detail-to', 'detail-ts', 'detail-text'].map((id) => document.getElementById(id).textContent)`);
    assert.deepEqual(detail, ['k-2', '+919876543210', '+14155550199', '2026-01-01T00:00:02.123456789Z', 'second\nline two']);
    assert.equal(await page.evaluate('document.activeElement.id'), 'detail-close');
    await page.press('Escape');
    await page.waitFor(`!document.getElementById('detail').open`, 2_000);
    assert.equal(await page.evaluate(`document.activeElement.closest('li')?.dataset.id`), 'k-2', 'focus is back on the message');
    // Every control has a name a screen reader can read.
    const unnamed = await page.evaluate<string[]>(`[...document.querySelectorAll('button, input, a')].filter((el) => !el.closest('[hidden]') && !el.closest('template')).filter((el) => {
      const label = el.labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.textContent;
      return !label || label.trim() === '';
    }).map((el) => el.outerHTML.slice(0, 80))`);
    assert.deepEqual(unnamed, []);
    await assertClean(page);
  });

  it('screenshots at 390×844 and 1440×900, light and dark; the layout fits the width from 360 to 1600 px', async (t) => {
    if (!haveChromium(t)) return;
    const svc = await freshService(t);
    const senders = ['+14155550100', '+14155550101', '+447700900123', '+919876543210', '+5511987654321'];
    const texts = ['Your order #1042 has shipped and will arrive on Thursday.', 'Can we move the call to 3 pm?', 'OTP 482913 — valid for 10 minutes', 'Thanks, see you then.', null, 'Invoice INV-2291 is due on 31 January. Reply STOP to opt out of reminders; a very long line that has to wrap on a phone.'];
    await seed(svc, Array.from({ length: 24 }, (_, i) => message({ message_id: `wamid.${1000 + i}`, from: senders[(i * 7) % 5 === 0 ? 0 : i % senders.length], ts: `2026-03-0${1 + (i % 9)}T${String(8 + (i % 12)).padStart(2, '0')}:${String((i * 13) % 60).padStart(2, '0')}:00Z`, text: texts[i % texts.length] })));
    const dir = process.env['INBOX_SCREENSHOTS'] ?? mkdtempSync(join(tmpdir(), 'inbox-screenshots-'));
    mkdirSync(dir, { recursive: true });
    const page = await newPage(t);
    for (const [width, height] of [[390, 844], [1440, 900]] as const) {
      for (const scheme of ['light', 'dark'] as const) {
        await page.viewport(width, height, scheme);
        await page.goto(`${svc.url}/inbox`);
        await page.waitFor(`${rowCount(24)} && ${liveState} === 'live' && document.querySelectorAll('#chart > li').length === 5`, 5_000);
        const background = await page.evaluate<string>(`getComputedStyle(document.body).backgroundColor`);
        assert.equal(background, scheme === 'dark' ? 'rgb(15, 18, 23)' : 'rgb(246, 247, 249)', `prefers-color-scheme: ${scheme}`);
        const file = join(dir, `inbox-${width}x${height}-${scheme}.png`);
        await page.screenshot(file);
      }
    }
    t.diagnostic(`screenshots in ${dir}`);
    console.log(`inbox screenshots: ${dir}`);
    for (const width of [360, 390, 768, 1024, 1440, 1600]) {
      await page.viewport(width, 900, 'light');
      const overflow = await page.evaluate<number>(`document.documentElement.scrollWidth - document.documentElement.clientWidth`);
      assert.equal(overflow, 0, `no horizontal scrolling at ${width} px`);
      const columns = await page.evaluate<number>(`getComputedStyle(document.querySelector('.columns')).gridTemplateColumns.split(' ').length`);
      assert.equal(columns, width >= 960 ? 2 : 1, `${width} px: ${width >= 960 ? 'list and figures side by side' : 'one column'}`);
    }
    await assertClean(page);
  });
});

// @ts-check
// The inbox page's script (SPEC "The inbox page"): plain JavaScript, served as it is (no build step,
// no package), type-checked by `tsc -p src/inbox` in the tests. It reads the service's own routes,
// relative to the page (`messages`, `stats`, `messages/stream`, `messages/export`), so it also works
// behind a proxy that mounts the service under a path. Message fields are only ever written with
// textContent or as attribute values: never parsed as HTML.

const TOKEN_KEY = 'webhook-api.inbox.read-token';
const PAGE_SIZE = 50;
/** Rows kept on the page; past it the oldest are dropped (a tab left open on a busy service). */
const MAX_ROWS = 2000;
const SEARCH_DELAY_MS = 350;
const STATS_EVERY_MS = 2000;
/** Reconnect waits: 0.5 s, doubling up to 5 s, each with up to 25 % of jitter. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;
/** A stream silent this long is taken as dead (the service sends a heartbeat every 15 s). */
const SILENCE_MS = 40_000;
const SENDER = /^\+[0-9]{1,15}$/;

/** @typedef {{ message_id: string, from: string, to: string, ts: string, text: string | null }} Message */
/** @typedef {{ total_messages: number, senders_count: number, messages_per_sender: { from: string, count: number }[], first_message_ts: string | null, last_message_ts: string | null }} Stats */

class NeedsToken extends Error {}
class HttpError extends Error {
  /** @param {number} status @param {string} detail */
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from the page`);
  return found;
}

const ui = {
  live: byId('live', HTMLElement),
  liveText: byId('live-text', HTMLElement),
  forget: byId('forget-token', HTMLButtonElement),
  tokenPanel: byId('token-panel', HTMLElement),
  tokenForm: byId('token-form', HTMLFormElement),
  tokenInput: byId('token-input', HTMLInputElement),
  tokenError: byId('token-error', HTMLElement),
  app: byId('app', HTMLElement),
  filters: byId('filters', HTMLFormElement),
  q: byId('q', HTMLInputElement),
  sender: byId('sender', HTMLInputElement),
  senderHint: byId('sender-hint', HTMLElement),
  senders: byId('senders', HTMLDataListElement),
  clear: byId('clear', HTMLButtonElement),
  exportNdjson: byId('export-ndjson', HTMLAnchorElement),
  exportCsv: byId('export-csv', HTMLAnchorElement),
  title: byId('messages-title', HTMLElement),
  count: byId('count', HTMLElement),
  listState: byId('list-state', HTMLElement),
  list: byId('messages', HTMLOListElement),
  older: byId('older', HTMLButtonElement),
  statsState: byId('stats-state', HTMLElement),
  statTotal: byId('stat-total', HTMLElement),
  statSenders: byId('stat-senders', HTMLElement),
  statFirst: byId('stat-first', HTMLElement),
  statLast: byId('stat-last', HTMLElement),
  chart: byId('chart', HTMLOListElement),
  announce: byId('announce', HTMLElement),
  detail: byId('detail', HTMLDialogElement),
  detailId: byId('detail-id', HTMLElement),
  detailFrom: byId('detail-from', HTMLElement),
  detailTo: byId('detail-to', HTMLElement),
  detailTs: byId('detail-ts', HTMLElement),
  detailLocal: byId('detail-local', HTMLElement),
  detailText: byId('detail-text', HTMLElement),
  detailJson: byId('detail-json', HTMLElement),
  detailSender: byId('detail-sender', HTMLButtonElement),
  detailClose: byId('detail-close', HTMLButtonElement),
  rowTemplate: byId('row-template', HTMLTemplateElement),
  barTemplate: byId('bar-template', HTMLTemplateElement),
};

const state = {
  /** @type {string | null} */
  token: readToken(),
  filters: { q: '', from: '' },
  /** Newest first, as the list shows them. @type {Message[]} */
  rows: [],
  /** @type {Set<string>} */
  ids: new Set(),
  /** The cursor of the next older page; null when there is none. @type {string | null} */
  older: null,
  total: 0,
  /** Bumped by every (re)load: work of an older load that finishes late is dropped. */
  generation: 0,
  /** @type {AbortController | null} */
  stream: null,
  /** The last id the stream gave (events and id-only blocks): where a reconnect resumes. @type {string | null} */
  lastEventId: null,
  /** @type {Message | null} */
  shown: null,
  /** @type {HTMLElement | null} */
  returnFocus: null,
};

// --- the service --------------------------------------------------------------------------------

function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** @param {string | null} token */
function keepToken(token) {
  state.token = token;
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage refused (a private mode): the token lives as long as the page.
  }
}

/**
 * @param {string} path relative to the page
 * @param {{ signal?: AbortSignal, headers?: Record<string, string> }} [options]
 */
function call(path, options = {}) {
  const headers = new Headers(options.headers);
  if (state.token !== null) headers.set('Authorization', `Bearer ${state.token}`);
  return fetch(path, { headers, cache: 'no-cache', ...(options.signal && { signal: options.signal }) });
}

/** @param {Response} res */
async function failureOf(res) {
  if (res.status === 401) return new NeedsToken();
  let detail = res.statusText || 'error';
  try {
    const body = await res.json();
    if (typeof body?.detail === 'string') detail = body.detail;
  } catch {
    // not JSON: keep the status text
  }
  return new HttpError(res.status, detail);
}

/** @param {string} path */
async function getJson(path) {
  const res = await call(path);
  if (!res.ok) throw await failureOf(res);
  return { res, body: await res.json() };
}

/** @param {Record<string, string | null>} params */
function query(params) {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== '') out.set(key, value);
  const text = out.toString();
  return text === '' ? '' : `?${text}`;
}

const filterParams = () => ({ from: state.filters.from, q: state.filters.q });
/** @param {string | null} cursor */
const pageUrl = (cursor) => `messages${query({ order: 'desc', limit: String(PAGE_SIZE), ...filterParams(), cursor })}`;
const streamUrl = () => `messages/stream${query(filterParams())}`;
/** @param {'ndjson' | 'csv'} format */
const exportUrl = (format) => `messages/export${query({ ...filterParams(), format: format === 'csv' ? 'csv' : null })}`;

/** The cursor of a `Link: <…>; rel="next"` header, or null. @param {string | null} link */
function nextCursor(link) {
  const target = link === null ? null : /<([^>]*)>\s*;\s*rel="?next"?/.exec(link)?.[1];
  if (target === undefined || target === null) return null;
  return new URL(target, location.href).searchParams.get('cursor');
}

/** @param {unknown} value @returns {value is Message} */
function isMessage(value) {
  if (typeof value !== 'object' || value === null) return false;
  const m = /** @type {Record<string, unknown>} */ (value);
  return ['message_id', 'from', 'to', 'ts'].every((k) => typeof m[k] === 'string') && (m['text'] === null || typeof m['text'] === 'string');
}

// --- order and time -----------------------------------------------------------------------------

/** The service's order key: the instant with nine fraction digits ('' for a legacy unreadable ts). @param {string} ts */
function instantKey(ts) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(ts);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : '';
}

/** True when a is newer than b in the list order (instant, then message_id). @param {Message} a @param {Message} b */
function newer(a, b) {
  const ka = instantKey(a.ts);
  const kb = instantKey(b.ts);
  return ka !== kb ? ka > kb : a.message_id > b.message_id;
}

/** @param {string} ts */
function localTime(ts) {
  const when = new Date(ts.replace(/\.(\d{1,9})Z$/, (_, f) => `.${String(f).padEnd(3, '0').slice(0, 3)}Z`));
  if (Number.isNaN(when.getTime())) return null;
  return when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** @param {number} n @param {string} one @param {string} many */
const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

// --- what the page shows ------------------------------------------------------------------------

/** @param {'connecting' | 'live' | 'reconnecting' | 'token' | 'error'} kind @param {string} text */
function setLive(kind, text) {
  ui.live.dataset['state'] = kind;
  if (ui.liveText.textContent !== text) ui.liveText.textContent = text;
}

/** @param {string} text */
function announce(text) {
  ui.announce.textContent = '';
  requestAnimationFrame(() => (ui.announce.textContent = text));
}

/**
 * The list's state line: a sentence, optionally an error with a retry button.
 * @param {string} text @param {{ error?: boolean, retry?: () => void }} [options]
 */
function listState(text, options = {}) {
  ui.listState.replaceChildren(text);
  ui.listState.classList.toggle('error', options.error === true);
  if (options.retry !== undefined) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'quiet';
    button.textContent = 'Try again';
    button.addEventListener('click', options.retry, { once: true });
    ui.listState.append(button);
  }
}

function renderCount() {
  const filtered = state.filters.q !== '' || state.filters.from !== '';
  ui.count.textContent = state.total === 0 ? '' : `(${state.rows.length.toLocaleString()} of ${plural(state.total, filtered ? 'match' : 'message', filtered ? 'matches' : 'messages')})`;
  if (state.rows.length > 0) listState('');
  else if (filtered) listState('No messages match these filters.');
  else listState('No messages yet. They appear here as soon as they arrive.');
  ui.older.hidden = state.older === null;
}

/** @param {Message} message */
function rowFor(message) {
  const fragment = /** @type {DocumentFragment} */ (ui.rowTemplate.content.cloneNode(true));
  const item = /** @type {HTMLLIElement} */ (fragment.querySelector('li'));
  const open = /** @type {HTMLButtonElement} */ (item.querySelector('.open'));
  const from = /** @type {HTMLElement} */ (item.querySelector('.from'));
  const when = /** @type {HTMLTimeElement} */ (item.querySelector('.when'));
  const snippet = /** @type {HTMLElement} */ (item.querySelector('.snippet'));
  item.dataset['id'] = message.message_id;
  from.textContent = message.from;
  when.textContent = localTime(message.ts) ?? message.ts;
  when.dateTime = message.ts;
  when.title = message.ts;
  if (message.text === null || message.text === '') {
    snippet.textContent = message.text === null ? 'No text' : 'Empty text';
    snippet.classList.add('none');
  } else {
    snippet.textContent = message.text;
  }
  open.addEventListener('click', () => showDetail(message, open));
  return item;
}

/**
 * Puts a message in its place in the list (newest first), once. A live one older than the oldest
 * row shown while older pages remain is left for "Load older" to bring ('later').
 * @param {Message} message @param {boolean} live
 * @returns {'placed' | 'duplicate' | 'later'}
 */
function place(message, live) {
  if (state.ids.has(message.message_id)) return 'duplicate';
  const oldest = state.rows[state.rows.length - 1];
  if (live && state.older !== null && oldest !== undefined && newer(oldest, message)) return 'later';
  let lo = 0;
  let hi = state.rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const row = /** @type {Message} */ (state.rows[mid]);
    if (newer(row, message)) lo = mid + 1;
    else hi = mid;
  }
  state.rows.splice(lo, 0, message);
  state.ids.add(message.message_id);
  const item = rowFor(message);
  if (live) {
    item.classList.add('new');
    setTimeout(() => item.classList.remove('new'), 4000);
  }
  ui.list.insertBefore(item, ui.list.children[lo] ?? null);
  return 'placed';
}

/** Drops the oldest rows past MAX_ROWS; "Load older" cannot continue below them then. */
function trim() {
  if (state.rows.length <= MAX_ROWS) return;
  for (const dropped of state.rows.splice(MAX_ROWS)) {
    state.ids.delete(dropped.message_id);
    ui.list.querySelector(`li[data-id="${CSS.escape(dropped.message_id)}"]`)?.remove();
  }
  state.older = null;
}

/** @param {Stats} stats */
function renderStats(stats) {
  ui.statsState.textContent = '';
  ui.statTotal.textContent = stats.total_messages.toLocaleString();
  ui.statSenders.textContent = stats.senders_count.toLocaleString();
  ui.statFirst.textContent = stats.first_message_ts ?? '–';
  ui.statLast.textContent = stats.last_message_ts ?? '–';
  const top = stats.messages_per_sender;
  const most = Math.max(1, ...top.map((s) => s.count));
  const bars = top.map(({ from, count }) => {
    const fragment = /** @type {DocumentFragment} */ (ui.barTemplate.content.cloneNode(true));
    const item = /** @type {HTMLLIElement} */ (fragment.querySelector('li'));
    const button = /** @type {HTMLButtonElement} */ (item.querySelector('.sender'));
    const fill = /** @type {SVGRectElement} */ (item.querySelector('rect'));
    const n = /** @type {HTMLElement} */ (item.querySelector('.n'));
    button.textContent = from;
    button.setAttribute('aria-label', `${from}: ${plural(count, 'message', 'messages')}. Show only this sender`);
    button.setAttribute('aria-pressed', String(state.filters.from === from));
    button.addEventListener('click', () => applyFilters({ q: state.filters.q, from: state.filters.from === from ? '' : from }));
    fill.setAttribute('width', `${Math.max(1, (count / most) * 100).toFixed(2)}%`);
    n.textContent = count.toLocaleString();
    return item;
  });
  ui.chart.replaceChildren(...bars);
  ui.senders.replaceChildren(...top.map(({ from }) => Object.assign(document.createElement('option'), { value: from })));
}

let statsTimer = 0;
let statsDue = false;
/** Refreshes /stats now, or at most once per STATS_EVERY_MS while messages keep arriving. */
function refreshStats(soon = false) {
  if (soon) {
    statsDue = true;
    if (statsTimer === 0) statsTimer = window.setTimeout(() => ((statsTimer = 0), statsDue && refreshStats()), STATS_EVERY_MS);
    return;
  }
  statsDue = false;
  const generation = state.generation;
  getJson('stats').then(
    ({ body }) => generation === state.generation && renderStats(/** @type {Stats} */ (body)),
    (err) => {
      if (generation !== state.generation) return;
      if (err instanceof NeedsToken) needToken();
      else ui.statsState.textContent = `The figures could not be read (${describe(err)}).`;
    },
  );
}

/** @param {unknown} err */
function describe(err) {
  if (err instanceof HttpError) return `${err.message}, HTTP ${err.status}`;
  return 'the service did not answer';
}

// --- the token ----------------------------------------------------------------------------------

/** Shows the token prompt; after a refused token, says so. */
function needToken() {
  const refused = state.token !== null;
  state.generation += 1;
  stopStream();
  keepToken(null);
  ui.app.hidden = true;
  ui.forget.hidden = true;
  ui.tokenPanel.hidden = false;
  ui.tokenError.hidden = !refused;
  ui.tokenError.textContent = refused ? 'That token was not accepted. Check it and try again.' : '';
  ui.tokenInput.setAttribute('aria-invalid', String(refused));
  ui.tokenInput.value = '';
  setLive('token', 'Token needed');
  ui.tokenInput.focus();
}

// --- the live tail ------------------------------------------------------------------------------

function stopStream() {
  state.stream?.abort();
  state.stream = null;
}

/** @param {number} ms @param {AbortSignal} signal */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
  });
}

/**
 * Server-Sent Events, parsed as the HTML standard says (fields, comments, blank-line dispatch), from
 * a fetch body: EventSource cannot send the Authorization header.
 * @param {ReadableStream<Uint8Array>} body @param {AbortController} connection
 * @param {{ id(id: string): void, event(type: string, data: string): void }} on
 */
async function readEvents(body, connection, on) {
  const reader = body.getReader();
  const utf8 = new TextDecoder();
  let pending = '';
  /** @type {string[]} */
  let data = [];
  let type = '';
  /** @type {string | null} */
  let id = null;
  let silence = setTimeout(() => connection.abort(), SILENCE_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(silence);
      silence = setTimeout(() => connection.abort(), SILENCE_MS);
      // A CR at the very end may be the first half of a CRLF: it waits for the next chunk.
      const lines = (pending + utf8.decode(value, { stream: true })).split(/\r\n|\n|\r(?=[^\n])/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (id !== null) on.id(id);
          if (data.length > 0) on.event(type === '' ? 'message' : type, data.join('\n'));
          data = [];
          type = '';
          id = null;
          continue;
        }
        if (line.startsWith(':')) continue; // a comment: the heartbeat
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') type = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
    }
  } finally {
    clearTimeout(silence);
    reader.cancel().catch(() => {});
  }
}

/**
 * Opens the live tail and keeps it open, resuming after any break from the last id seen (so nothing
 * is missed or repeated). Resolves once the stream is open (its first block gives the head) or has
 * failed once; rejects with NeedsToken on a 401.
 * @param {number} generation
 * @returns {Promise<void>}
 */
function startStream(generation) {
  const stream = new AbortController();
  state.stream = stream;
  /** @type {(value?: void) => void} */
  let opened = () => {};
  /** @type {(err: unknown) => void} */
  let refused = () => {};
  const head = new Promise((resolve, reject) => ((opened = resolve), (refused = reject)));
  let listShown = false;
  head.then(() => (listShown = true), () => {});

  void (async () => {
    let wait = 0;
    while (!stream.signal.aborted && generation === state.generation) {
      if (wait > 0) {
        setLive('reconnecting', 'Disconnected, reconnecting…');
        await pause(wait * (1 + Math.random() / 4), stream.signal);
        if (stream.signal.aborted) return;
      }
      const connection = new AbortController();
      const cut = () => connection.abort();
      stream.signal.addEventListener('abort', cut, { once: true });
      const resumeFrom = state.lastEventId;
      try {
        const res = await call(streamUrl(), { signal: connection.signal, headers: resumeFrom === null ? {} : { 'Last-Event-ID': resumeFrom } });
        if (res.status === 401) {
          refused(new NeedsToken());
          if (generation === state.generation) needToken();
          return;
        }
        if (!res.ok || res.body === null) throw await failureOf(res);
        let first = true;
        await readEvents(res.body, connection, {
          id(id) {
            state.lastEventId = id;
            if (!first) return;
            first = false;
            wait = 0;
            setLive('live', 'Live');
            // Opened without an id after the list was read: what committed in between is in no
            // event, so the newest page is read again (rows already shown are not repeated).
            if (resumeFrom === null && listShown) void refreshNewest(generation);
            else if (resumeFrom !== null) refreshStats();
            opened();
          },
          event(type, data) {
            if (type === 'message' && generation === state.generation) arrived(data);
          },
        });
      } catch {
        // A refused connection, a reset, a dead stream: retried below.
      } finally {
        stream.signal.removeEventListener('abort', cut);
      }
      if (stream.signal.aborted || generation !== state.generation) return;
      opened(); // the list is read even while the tail retries
      wait = wait === 0 ? RETRY_FIRST_MS : Math.min(RETRY_MAX_MS, wait * 2);
    }
  })();
  return head;
}

let arrivals = 0;
let arrivalsTimer = 0;
/** @param {string} data */
function arrived(data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return;
  }
  if (!isMessage(message)) return;
  const placed = place(message, true);
  if (placed === 'duplicate') return;
  state.total += 1; // a new match, shown now or with "Load older"
  if (placed === 'later') return renderCount();
  trim();
  renderCount();
  refreshStats(true);
  arrivals += 1;
  if (arrivalsTimer === 0) {
    arrivalsTimer = window.setTimeout(() => {
      announce(arrivals === 1 ? 'A new message arrived.' : `${arrivals} new messages arrived.`);
      arrivals = 0;
      arrivalsTimer = 0;
    }, 1000);
  }
}

// --- loading ------------------------------------------------------------------------------------

/** @param {number} generation */
async function refreshNewest(generation) {
  try {
    const { body } = await getJson(pageUrl(null));
    if (generation !== state.generation) return;
    let added = 0;
    for (const message of body.data) if (isMessage(message) && place(message, true) === 'placed') added += 1;
    state.total = Math.max(state.total, Number(body.total) || 0);
    trim();
    renderCount();
    if (added > 0) refreshStats(true);
  } catch (err) {
    if (err instanceof NeedsToken && generation === state.generation) needToken();
  }
}

/** Starts over with the current filters: the tail first, then the newest page, then the figures. */
async function load() {
  state.generation += 1;
  const generation = state.generation;
  stopStream();
  state.rows = [];
  state.ids.clear();
  state.older = null;
  state.total = 0;
  state.lastEventId = null;
  ui.list.replaceChildren();
  ui.older.hidden = true;
  ui.count.textContent = '';
  ui.list.setAttribute('aria-busy', 'true');
  listState('Loading…');
  setLive('connecting', 'Connecting…');
  updateExportLinks();
  try {
    // The tail opens first: what commits after its head comes through it, what before is in the page.
    await startStream(generation);
    if (generation !== state.generation) return;
    // Past the token check (a 401 would have shown the prompt instead): the inbox itself.
    ui.tokenPanel.hidden = true;
    ui.app.hidden = false;
    ui.forget.hidden = state.token === null;
    const { res, body } = await getJson(pageUrl(null));
    if (generation !== state.generation) return;
    for (const message of body.data) if (isMessage(message)) place(message, false);
    state.total = Math.max(Number(body.total) || 0, state.rows.length);
    state.older = nextCursor(res.headers.get('Link'));
    renderCount();
    refreshStats();
  } catch (err) {
    if (generation !== state.generation) return;
    if (err instanceof NeedsToken) needToken();
    else listState(`The messages could not be read (${describe(err)}).`, { error: true, retry: () => void load() });
  } finally {
    ui.list.removeAttribute('aria-busy');
  }
}

async function loadOlder() {
  const cursor = state.older;
  if (cursor === null) return;
  const generation = state.generation;
  ui.older.disabled = true;
  ui.older.textContent = 'Loading…';
  try {
    const { res, body } = await getJson(pageUrl(cursor));
    if (generation !== state.generation) return;
    let added = 0;
    for (const message of body.data) if (isMessage(message) && place(message, false) === 'placed') added += 1;
    state.total = Math.max(Number(body.total) || 0, state.rows.length);
    state.older = nextCursor(res.headers.get('Link'));
    renderCount();
    announce(`${plural(added, 'older message', 'older messages')} loaded.`);
    if (state.older === null) /** @type {HTMLElement | null} */ (ui.list.lastElementChild?.querySelector('.open') ?? null)?.focus();
  } catch (err) {
    if (generation !== state.generation) return;
    if (err instanceof NeedsToken) needToken();
    else listState(`Older messages could not be read (${describe(err)}).`, { error: true, retry: () => void loadOlder() });
  } finally {
    ui.older.disabled = false;
    ui.older.textContent = 'Load older';
  }
}

// --- filters, export, detail --------------------------------------------------------------------

/** A sender as typed: digits alone get their +. @param {string} raw */
function normalSender(raw) {
  const trimmed = raw.trim().replace(/[\s()-]/g, '');
  return /^[0-9]+$/.test(trimmed) ? `+${trimmed}` : trimmed;
}

/** @param {{ q: string, from: string }} next */
function applyFilters(next) {
  const from = normalSender(next.from);
  const badSender = from !== '' && !SENDER.test(from);
  ui.sender.setAttribute('aria-invalid', String(badSender));
  ui.senderHint.classList.toggle('error', badSender);
  ui.senderHint.textContent = badSender ? 'A sender is + and 1 to 15 digits' : 'Exact number, with its +';
  if (badSender) {
    ui.sender.focus();
    return;
  }
  ui.q.value = next.q;
  ui.sender.value = from;
  if (next.q === state.filters.q && from === state.filters.from) return;
  state.filters = { q: next.q, from };
  const url = new URL(location.href);
  url.search = query({ q: next.q, from });
  history.replaceState(null, '', url);
  void load();
}

function updateExportLinks() {
  ui.exportNdjson.href = exportUrl('ndjson');
  ui.exportCsv.href = exportUrl('csv');
}

/**
 * With a token the export is fetched with its Authorization header and saved from memory; without
 * one the plain link downloads it as it streams.
 * @param {MouseEvent} event @param {'ndjson' | 'csv'} format
 */
async function exportWithToken(event, format) {
  if (state.token === null) return;
  event.preventDefault();
  const link = /** @type {HTMLAnchorElement} */ (event.currentTarget);
  link.setAttribute('aria-disabled', 'true');
  announce('Exporting…');
  try {
    const res = await call(exportUrl(format));
    if (!res.ok) throw await failureOf(res);
    const url = URL.createObjectURL(await res.blob());
    const save = Object.assign(document.createElement('a'), { href: url, download: `messages.${format}` });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce('Export ready.');
  } catch (err) {
    if (err instanceof NeedsToken) needToken();
    else announce(`The export failed (${describe(err)}).`);
  } finally {
    link.removeAttribute('aria-disabled');
  }
}

/** @param {Message} message @param {HTMLElement} from */
function showDetail(message, from) {
  state.shown = message;
  state.returnFocus = from;
  ui.detailId.textContent = message.message_id;
  ui.detailFrom.textContent = message.from;
  ui.detailTo.textContent = message.to;
  ui.detailTs.textContent = message.ts;
  ui.detailLocal.textContent = localTime(message.ts) ?? '';
  ui.detailText.textContent = message.text ?? 'No text';
  ui.detailText.classList.toggle('none', message.text === null);
  ui.detailJson.textContent = JSON.stringify(message, null, 2);
  ui.detailSender.hidden = state.filters.from === message.from;
  ui.detail.showModal();
  ui.detailClose.focus();
}

// --- wiring -------------------------------------------------------------------------------------

let searchTimer = 0;
ui.q.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => applyFilters({ q: ui.q.value, from: state.filters.from }), SEARCH_DELAY_MS);
});
ui.sender.addEventListener('change', () => applyFilters({ q: ui.q.value, from: ui.sender.value }));
ui.filters.addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  applyFilters({ q: ui.q.value, from: ui.sender.value });
});
ui.clear.addEventListener('click', () => applyFilters({ q: '', from: '' }));
ui.older.addEventListener('click', () => void loadOlder());
ui.exportNdjson.addEventListener('click', (event) => void exportWithToken(event, 'ndjson'));
ui.exportCsv.addEventListener('click', (event) => void exportWithToken(event, 'csv'));

ui.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (token === '') {
    ui.tokenError.hidden = false;
    ui.tokenError.textContent = 'Enter the read token.';
    ui.tokenInput.focus();
    return;
  }
  keepToken(token);
  void load();
});
ui.forget.addEventListener('click', () => {
  keepToken(null);
  void load();
});

ui.detailClose.addEventListener('click', () => ui.detail.close());
ui.detailSender.addEventListener('click', () => {
  const message = state.shown;
  ui.detail.close();
  if (message !== null) applyFilters({ q: state.filters.q, from: message.from });
});
ui.detail.addEventListener('close', () => {
  const back = state.returnFocus;
  state.returnFocus = null;
  if (back !== null && back.isConnected) back.focus();
});

// Arrow keys, Home and End move between the messages; "/" goes to the search box.
ui.list.addEventListener('keydown', (event) => {
  const buttons = [...ui.list.querySelectorAll('.open')];
  const at = buttons.indexOf(/** @type {Element} */ (document.activeElement));
  if (at === -1) return;
  const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  const target = to === undefined ? undefined : buttons[Math.max(0, Math.min(buttons.length - 1, to))];
  if (target instanceof HTMLElement) {
    event.preventDefault();
    target.focus();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || ui.detail.open || ui.app.hidden) return;
  const active = document.activeElement;
  if (active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement) return;
  event.preventDefault();
  ui.q.focus();
});

const initial = new URLSearchParams(location.search);
state.filters = { q: initial.get('q') ?? '', from: normalSender(initial.get('from') ?? '') };
if (state.filters.from !== '' && !SENDER.test(state.filters.from)) state.filters.from = '';
ui.q.value = state.filters.q;
ui.sender.value = state.filters.from;
void load();

// A real browser for tests: Debian's headless Chromium, driven over the Chrome DevTools Protocol
// with Node's built-in WebSocket (no puppeteer or playwright). One browser per test file; each
// test gets its own browser context (its own sessionStorage, cache and cookies) and page. The page
// records console errors, uncaught exceptions, CSP violations, dialogs and requests, so a test can
// assert that none happened. Outside CI a missing browser skips the test; under CI it fails it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCi } from './tools.ts';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The flags that work here as root on a closed network (see the environment notes). */
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', '--mute-audio',
  '--no-default-browser-check', '--hide-scrollbars', '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1',
];

type Skippable = { skip(message?: string): void };

/** True when Chromium is installed; otherwise skips the test, or fails it under CI. */
export function haveChromium(t: Skippable): boolean {
  const probe = existsSync(CHROMIUM) ? spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 }) : null;
  if (probe !== null && probe.error === undefined && probe.status === 0 && /Chromium/.test(probe.stdout)) return true;
  const why = `${CHROMIUM} is not installed (Debian package "chromium"; .ci/run installs it)`;
  if (inCi()) assert.fail(`${why}, and CI must run the browser tests`);
  t.skip(why);
  return false;
}

type Pending = { resolve(value: unknown): void; reject(err: Error): void; method: string };
type CdpEvent = { method: string; params: Record<string, unknown>; sessionId?: string };

/** One WebSocket to the browser; pages are flat sessions on it. */
class Connection {
  private readonly ws: WebSocket;
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: CdpEvent) => void>();
  closed = false;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (e) => this.receive(String(e.data)));
    ws.addEventListener('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new Error(`browser connection closed during ${p.method}`));
      this.pending.clear();
    });
  }

  private receive(text: string): void {
    const message = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
    if (message.id !== undefined) {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting?.resolve(message.result);
      return;
    }
    if (message.method !== undefined) {
      const event: CdpEvent = { method: message.method, params: message.params ?? {}, ...(message.sessionId !== undefined && { sessionId: message.sessionId }) };
      for (const listener of [...this.listeners]) listener(event);
    }
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`browser connection closed before ${method}`));
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId !== undefined && { sessionId }) }));
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method }));
  }

  on(listener: (event: CdpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.ws.close();
  }
}

export type Problem = { kind: 'console' | 'exception' | 'csp' | 'log' | 'dialog'; text: string };

export type Page = {
  /** Console errors, exceptions, CSP violations, error log entries and dialogs seen so far. */
  problems: Problem[];
  /** URLs the page requested, in order. */
  requests: string[];
  /** The same requests with the headers they were sent with. */
  sent: { url: string; headers: Record<string, string> }[];
  /** Every lifecycle event with its time (seconds, the browser's monotonic clock). */
  lifecycle: { name: string; timestamp: number }[];
  goto(url: string): Promise<void>;
  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /**
   * Resolves with the expression's value once it is truthy, checked at every change of the page's
   * DOM (a MutationObserver), not by polling; rejects after `ms`.
   */
  waitFor<T = unknown>(expression: string, ms?: number, what?: string): Promise<T>;
  /** Presses a key (a real key event) on whatever has the focus. */
  press(key: 'Enter' | 'Escape' | 'Tab' | 'ArrowDown' | 'ArrowUp' | 'End' | 'Home' | '/'): Promise<void>;
  /** Types text into whatever has the focus, as an input method would. */
  type(text: string): Promise<void>;
  /** A real mouse click at the middle of the element the selector finds (scrolled into view first). */
  click(selector: string): Promise<void>;
  viewport(width: number, height: number, scheme: 'light' | 'dark'): Promise<void>;
  screenshot(path: string): Promise<void>;
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
};

const KEYS: Record<string, { key: string; code: string; keyCode: number; text?: string }> = {
  Enter: { key: 'Enter', code: 'Enter', keyCode: 13, text: '\r' },
  Escape: { key: 'Escape', code: 'Escape', keyCode: 27 },
  Tab: { key: 'Tab', code: 'Tab', keyCode: 9 },
  ArrowDown: { key: 'ArrowDown', code: 'ArrowDown', keyCode: 40 },
  ArrowUp: { key: 'ArrowUp', code: 'ArrowUp', keyCode: 38 },
  End: { key: 'End', code: 'End', keyCode: 35 },
  Home: { key: 'Home', code: 'Home', keyCode: 36 },
  '/': { key: '/', code: 'Slash', keyCode: 191, text: '/' },
};

/** Records CSP violations in the page itself, before any of its scripts run. */
const RECORD_VIOLATIONS = `
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

export type Browser = {
  version: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
};

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'inbox-chromium-'));
  const proc: ChildProcess = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Chromium did not open its DevTools port within 30 s:\n${stderr}`)), 30_000);
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited with ${code}:\n${stderr}`));
    });
  });
  const ws = new WebSocket(endpoint);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${endpoint}`)), { once: true });
  });
  const cdp = new Connection(ws);
  const { product } = await cdp.send<{ product: string }>('Browser.getVersion');
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  return {
    version: product,
    newPage: () => openPage(cdp),
    async close() {
      try {
        await Promise.race([cdp.send('Browser.close'), exited]);
      } catch {
        // already gone
      }
      cdp.close();
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      if (proc.exitCode === null && proc.signalCode === null) await exited;
      clearTimeout(killer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function openPage(cdp: Connection): Promise<Page> {
  const { browserContextId } = await cdp.send<{ browserContextId: string }>('Target.createBrowserContext', { disposeOnDetach: true });
  const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank', browserContextId });
  const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
  const send = <T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> => cdp.send<T>(method, params, sessionId);
  const problems: Problem[] = [];
  const requests: string[] = [];
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const lifecycle: { name: string; timestamp: number }[] = [];
  const off = cdp.on((event) => {
    if (event.sessionId !== sessionId) return;
    const p = event.params;
    switch (event.method) {
      case 'Runtime.consoleAPICalled':
        if (p['type'] === 'error' || p['type'] === 'assert') problems.push({ kind: 'console', text: JSON.stringify(p['args']) });
        break;
      case 'Runtime.exceptionThrown':
        problems.push({ kind: 'exception', text: JSON.stringify(p['exceptionDetails']) });
        break;
      case 'Log.entryAdded': {
        const entry = p['entry'] as { level: string; source: string; text: string; url?: string };
        if (entry.level === 'error' || entry.source === 'security') problems.push({ kind: entry.source === 'security' ? 'csp' : 'log', text: `${entry.source}: ${entry.text} ${entry.url ?? ''}` });
        break;
      }
      case 'Page.javascriptDialogOpening':
        problems.push({ kind: 'dialog', text: String(p['message']) });
        void send('Page.handleJavaScriptDialog', { accept: false }).catch(() => {});
        break;
      case 'Network.requestWillBeSent': {
        const request = p['request'] as { url: string; headers: Record<string, string> };
        requests.push(request.url);
        sent.push({ url: request.url, headers: request.headers });
        break;
      }
      case 'Page.lifecycleEvent':
        lifecycle.push({ name: String(p['name']), timestamp: Number(p['timestamp']) });
        break;
    }
  });
  await Promise.all([send('Page.enable'), send('Runtime.enable'), send('Log.enable'), send('Network.enable')]);
  await send('Page.setLifecycleEventsEnabled', { enabled: true });
  await send('Page.addScriptToEvaluateOnNewDocument', { source: RECORD_VIOLATIONS });

  const evaluate = async <T>(expression: string): Promise<T> => {
    const out = await send<{ result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (out.exceptionDetails) throw new Error(`in the page: ${out.exceptionDetails.exception?.description ?? out.exceptionDetails.text}\n  evaluating: ${expression.slice(0, 300)}`);
    return out.result.value as T;
  };
  const key = async (name: string): Promise<void> => {
    const k = KEYS[name];
    assert.ok(k, name);
    const base = { key: k.key, code: k.code, windowsVirtualKeyCode: k.keyCode, nativeVirtualKeyCode: k.keyCode };
    await send('Input.dispatchKeyEvent', { type: 'keyDown', ...base, ...(k.text !== undefined && { text: k.text }) });
    await send('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
  };

  return {
    problems,
    requests,
    sent,
    lifecycle,
    send,
    evaluate,
    async goto(url) {
      const loaded = new Promise<void>((resolve) => {
        const stop = cdp.on((e) => {
          if (e.sessionId === sessionId && e.method === 'Page.loadEventFired') {
            stop();
            resolve();
          }
        });
      });
      const nav = await send<{ errorText?: string }>('Page.navigate', { url });
      assert.equal(nav.errorText, undefined, `navigating to ${url}`);
      await loaded;
    },
    waitFor<T>(expression: string, ms = 5_000, what = expression) {
      return evaluate<T>(`new Promise((resolve, reject) => {
        const read = () => { try { return (${expression}); } catch { return undefined; } };
        let observer;
        const timer = setTimeout(() => { observer.disconnect(); reject(new Error(${JSON.stringify(`timed out after ${ms} ms waiting for ${what}`)})); }, ${ms});
        const check = () => { const v = read(); if (v) { observer.disconnect(); clearTimeout(timer); resolve(v); } };
        observer = new MutationObserver(check);
        observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
        check();
      })`);
    },
    press: key,
    async type(text) {
      await send('Input.insertText', { text });
    },
    async click(selector) {
      const box = await evaluate<{ x: number; y: number } | null>(`(() => {
        const el = document.querySelector(${JSON.stringify(selector)});
        if (!el) return null;
        el.scrollIntoView({ block: 'center' });
        const r = el.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      })()`);
      assert.ok(box, `nothing matches ${selector}`);
      for (const type of ['mousePressed', 'mouseReleased']) await send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    },
    async viewport(width, height, scheme) {
      await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: width < 600 });
      await send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: scheme }] });
    },
    async screenshot(path) {
      const { data } = await send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
      writeFileSync(path, Buffer.from(data, 'base64'));
    },
    async close() {
      off();
      await cdp.send('Target.closeTarget', { targetId }).catch(() => {});
      await cdp.send('Target.disposeBrowserContext', { browserContextId }).catch(() => {});
    },
  };
}

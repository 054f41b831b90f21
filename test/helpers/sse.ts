// A Server-Sent Events client over fetch for tests: parses the stream as the WHATWG spec does (for
// the fields the service sends) and lets a test wait for events without sleeping.
import { withinMs } from './child-service.ts';

export type SseEvent = { id: string; event: string; data: string };

export type SseClient = {
  status: number;
  headers: Headers;
  /** Dispatched events, in order. */
  events: SseEvent[];
  /** The last event id the stream set (by an event or an id-only block), as EventSource keeps it. */
  lastId(): string;
  comments(): number;
  /** Resolves when `match` holds for the events so far; rejects after `ms` or when the stream ends first. */
  waitFor(what: string, match: (events: SseEvent[]) => boolean, ms?: number): Promise<void>;
  /** Resolves when the server ends the stream (cleanly: true; with an error: false). */
  ended: Promise<boolean>;
  close(): void;
};

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  let comments = 0;
  let lastId = '';
  let finished = false;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  let buffer = '';
  let id: string | null = null;
  let event = '';
  let data: string[] = [];
  const line = (text: string): void => {
    if (text === '') {
      if (id !== null) lastId = id;
      if (data.length > 0) events.push({ id: lastId, event: event === '' ? 'message' : event, data: data.join('\n') });
      id = null;
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) {
      comments += 1;
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };

  const ended = (async (): Promise<boolean> => {
    if (res.body === null) return true;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let at = buffer.indexOf('\n');
        while (at !== -1) {
          line(buffer.slice(0, at));
          buffer = buffer.slice(at + 1);
          at = buffer.indexOf('\n');
        }
        notify();
      }
      return true;
    } catch {
      return false;
    } finally {
      finished = true;
      notify();
    }
  })();

  return {
    status: res.status,
    headers: res.headers,
    events,
    lastId: () => lastId,
    comments: () => comments,
    waitFor(what, match, ms = 20_000) {
      const found = new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (match(events)) {
            waiters.delete(check);
            resolve();
          } else if (finished) {
            waiters.delete(check);
            reject(new Error(`the stream ended before ${what} (${events.length} events)`));
          }
        };
        waiters.add(check);
        check();
      });
      return withinMs(ms, what, found);
    },
    ended,
    close: () => controller.abort(),
  };
}

/** The parsed data of message events. */
export const messagesOf = (events: readonly SseEvent[]): { id: number; message: Record<string, unknown> }[] =>
  events.filter((e) => e.event === 'message').map((e) => ({ id: Number(e.id), message: JSON.parse(e.data) as Record<string, unknown> }));

// Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html).
// Each message is one event: `id` (its seq, which a client sends back as Last-Event-ID), `event`
// and one `data` line. JSON.stringify escapes CR and LF, so the data never spans lines.
import type { Arrival } from '../storage/store.ts';

export const EVENT_STREAM = 'text/event-stream';

export function eventFrame(arrival: Arrival): string {
  const m = arrival.message;
  const data = JSON.stringify({ message_id: m.message_id, from: m.from, to: m.to, ts: m.ts, text: m.text });
  return `id: ${arrival.seq}\nevent: message\ndata: ${data}\n\n`;
}

/**
 * An `id` with no data dispatches no event but sets the client's last event id (the spec's
 * dispatch step 1 runs before the empty-data check), so a client that reconnects resumes from here
 * even when no message matched its filters.
 */
export const positionFrame = (seq: number): string => `id: ${seq}\n\n`;

/** A comment line: ignored by clients, it keeps proxies from closing an idle connection. */
export const HEARTBEAT = ': heartbeat\n\n';

// GET /messages/stream: Server-Sent Events of every message stored from now on, or after the
// client's Last-Event-ID (header, or last_event_id in the query). See tail.ts for the handover.
import type { IncomingMessage } from 'node:http';
import type { FieldError } from '../http/errors.ts';
import { failure, invalid, stream, type Reply } from '../http/reply.ts';
import type { Logger } from '../log/logger.ts';
import type { ArrivalFilter, Store } from '../storage/store.ts';
import { liveFilter } from './arrival-batch.ts';
import { lastText, lastValue, parseSender, problem } from './filters.ts';
import { unavailable, type ReadFaultDeps } from './handlers.ts';
import { EVENT_STREAM } from './sse.ts';
import type { Subscribers } from './subscribers.ts';
import { createTail } from './tail.ts';

export const HEARTBEAT_MS = 15_000;
export const MAX_UNREAD_BYTES = 1024 * 1024;
const REPLAY_PAGE = 500;

export type StreamDeps = ReadFaultDeps & {
  store: Pick<Store, 'replay'>;
  logger: Logger;
  subscribers: Subscribers;
  lifecycle: { shuttingDown: boolean };
  heartbeatMs: number;
  maxUnreadBytes: number;
};

type StreamQuery = { ok: true; filter: ArrivalFilter; after: number | null } | { ok: false; errors: FieldError[] };

function parseLastEventId(raw: string | undefined, loc: readonly string[], errors: FieldError[]): number | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = Number(raw.trim());
  if (/^[0-9]+$/.test(raw.trim()) && Number.isSafeInteger(value)) return value;
  errors.push({ loc, msg: 'Value error, must be the id of an event from this stream (a whole number)', type: 'value_error' });
  return null;
}

export function parseStreamQuery(params: URLSearchParams, header: string | string[] | undefined): StreamQuery {
  const errors: FieldError[] = [];
  // The header wins: a browser's EventSource sends it on every reconnect, with the URL it began with.
  // (node:http joins a repeated header with ", ", which is not a valid id.)
  const fromHeader = parseLastEventId(typeof header === 'string' ? header : undefined, ['header', 'last-event-id'], errors);
  const fromQuery = parseLastEventId(lastValue(params, 'last_event_id'), ['query', 'last_event_id'], errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, filter: { from: parseSender(params), q: lastText(params, 'q') }, after: fromHeader ?? fromQuery };
}

export async function openStream(deps: StreamDeps, req: IncomingMessage, params: URLSearchParams): Promise<Reply> {
  const parsed = parseStreamQuery(params, req.headers['last-event-id']);
  if (!parsed.ok) return invalid(parsed.errors);
  if (deps.lifecycle.shuttingDown) return failure('server_busy', { Connection: 'close' });

  const tail = createTail({
    store: deps.store,
    logger: deps.logger,
    filter: parsed.filter,
    live: liveFilter(parsed.filter),
    heartbeatMs: deps.heartbeatMs,
    maxUnreadBytes: deps.maxUnreadBytes,
    replayPage: REPLAY_PAGE,
  });
  // Joined before the first read, so nothing committed from here on can be missed (tail.ts).
  const leave = deps.subscribers.join(tail.member);
  if (leave === null) return failure('server_busy');
  const first = await deps.store.replay(parsed.after ?? 0, parsed.filter, parsed.after === null ? 0 : REPLAY_PAGE);
  if (!first.ok) {
    leave();
    return unavailable(deps, first.error);
  }
  tail.start(first.replay, parsed.after, leave);
  return stream(EVENT_STREAM, tail.body, {
    endless: true,
    // no-cache: never served from a cache; X-Accel-Buffering: nginx passes events on at once.
    headers: { 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
  });
}

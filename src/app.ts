// createApp(deps) → a plain node:http listener. A request flows one way: framing checks → router →
// access check → handler → a returned Reply → the single responder → one access-log line and the
// metrics. Unexpected errors are caught here, once, and become a bare 500; their details go only
// to the log.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { allowed } from './auth/read-token.ts';
import type { Config } from './config.ts';
import type { Lifecycle } from './health/handlers.ts';
import { isSelfCheck } from './health/self-check.ts';
import type { BodyGate } from './http/body-gate.ts';
import type { Exchanges } from './http/exchanges.ts';
import { checkRequestHead } from './http/framing.ts';
import { closeInStages } from './http/linger.ts';
import { failure, type Reply } from './http/reply.ts';
import { pickRequestId } from './http/request-id.ts';
import { closesConnection, send } from './http/respond.ts';
import { createRouter } from './http/router.ts';
import type { InboxAssets } from './inbox/assets.ts';
import type { BurstLog } from './log/burst.ts';
import type { LogFields, Logger } from './log/logger.ts';
import type { Reading } from './messages/reading.ts';
import { UNMATCHED_PATH, type ServiceMetrics } from './metrics/service-metrics.ts';
import { routeTable, type Route } from './routes.ts';
import type { Store } from './storage/store.ts';
import type { InFlightLimit } from './webhook/in-flight.ts';
import type { ByteBudget } from './whatsapp/budget.ts';

export { routeTable } from './routes.ts';

export type Clock = { now(): Date; monotonicMs(): number };

export type AppDeps = {
  config: Config;
  store: Store;
  metrics: ServiceMetrics;
  logger: Logger;
  clock: Clock;
  lifecycle: Lifecycle;
  /** Caps verified webhook deliveries in progress; past it they get a fast 503 (webhook/in-flight.ts). */
  inFlight: InFlightLimit;
  /** Caps the bytes of WhatsApp envelopes held at once (see whatsapp/budget.ts). */
  whatsappBodies: ByteBudget;
  /** Cursors, live tails, exports and the streamed responses in progress (messages/reading.ts). */
  reading: Reading;
  /** The inbox page and its assets, read at start-up (inbox/assets.ts). */
  inbox: InboxAssets;
  /** Bounds bodies still arriving before their signature is checked (http/body-gate.ts). */
  bodyGate: BodyGate;
  /** Requests whose framing broke after they reached the app (http/client-errors.ts). */
  exchanges: Exchanges;
  /** Storage failures logged once per burst. */
  storageFaults: BurstLog;
};

/** One access-log line and one count, for every request answered (or that could not be). */
export type AccessEntry = {
  requestId: string;
  method: string | null;
  path: string | null;
  /** The metrics' `path` label: the route, or "unmatched". */
  route: string;
  status: number;
  latencyMs: number;
  log?: LogFields | undefined;
  /** Not counted in the metrics (the image's own health check, see health/self-check.ts). */
  uncounted?: boolean;
};

const round = (ms: number): number => Math.round(ms * 100) / 100;

function levelFor(status: number): 'info' | 'warn' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

export type Recorder = {
  /** Counts the request and writes its access-log line. */
  (entry: AccessEntry): void;
  /** Only counts it (a stream, whose line is written when it ends). */
  count(entry: AccessEntry): void;
  /** Only writes its line. */
  line(entry: AccessEntry): void;
};

export function createRecorder(deps: Pick<AppDeps, 'metrics' | 'logger'>): Recorder {
  // route → status → its series' increment: routes are the table's paths and "unmatched", statuses
  // a few dozen, so this stays small; a counted request then builds no label key.
  const series = new Map<string, Map<number, () => void>>();
  const requestsOf = (route: string, status: number): (() => void) => {
    let byStatus = series.get(route);
    if (byStatus === undefined) series.set(route, (byStatus = new Map()));
    let inc = byStatus.get(status);
    if (inc === undefined) byStatus.set(status, (inc = deps.metrics.httpRequests.bound([route, String(status)])));
    return inc;
  };
  const count = (entry: AccessEntry): void => {
    if (entry.uncounted === true) return;
    requestsOf(entry.route, entry.status)();
    deps.metrics.latency.observe(entry.latencyMs);
  };
  const line = (entry: AccessEntry): void => {
    const fields: Record<string, unknown> = {
      request_id: entry.requestId,
      method: entry.method,
      path: entry.path,
      status: entry.status,
      latency_ms: round(entry.latencyMs),
    };
    if (entry.log !== undefined) for (const name in entry.log) fields[name] = entry.log[name];
    deps.logger.line(levelFor(entry.status), fields);
  };
  return Object.assign((entry: AccessEntry) => {
    count(entry);
    line(entry);
  }, { count, line });
}

/** The query of a request without one (most of them): handlers only read it. */
const NO_QUERY: URLSearchParams = new URLSearchParams();

// RFC 9110 §10.1.1; the same test node:http uses to tell 100-continue from other expectations.
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

function unmetExpectation(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return expect !== undefined && req.httpVersionMinor === 1 && !CONTINUE.test(expect);
}

export function createApp(deps: AppDeps): RequestListener {
  const { config, logger, clock, lifecycle, exchanges } = deps;
  const router = createRouter<Route>(routeTable(deps));
  const record = createRecorder(deps);

  async function answer(req: IncomingMessage, method: string, path: string, query: string, requestId: string): Promise<{ route: string; reply: Reply }> {
    const match = router.match(method, path);
    const route = match.kind === 'not_found' ? UNMATCHED_PATH : match.route;
    try {
      if (unmetExpectation(req)) return { route, reply: failure('expectation_failed') };
      if (match.kind === 'method_not_allowed') return { route, reply: failure('method_not_allowed', { Allow: match.allow }) };
      if (match.kind === 'not_found') return { route, reply: failure('not_found') };
      if (!allowed(match.handler.access, config.readToken, req.headers.authorization)) return { route, reply: failure('unauthorized') };
      return { route, reply: await match.handler.handle({ req, query: query === '' ? NO_QUERY : new URLSearchParams(query), requestId }) };
    } catch (err) {
      logger.error('unhandled error', err, { request_id: requestId, method, path });
      return { route, reply: failure('internal') };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = clock.monotonicMs();
    const requestId = pickRequestId(req.headers['x-request-id']);
    const method = req.method ?? 'GET';
    const target = checkRequestHead(req);

    let path: string | null = null;
    let route = UNMATCHED_PATH;
    let reply: Reply;
    if (!target.ok) reply = failure('bad_request');
    else {
      path = target.path;
      ({ route, reply } = await answer(req, method, path, target.query, requestId));
    }
    // The framing broke while the handler ran (a bad chunk, the client's EOF, the request
    // timeout): that is the answer, and the connection closes after it.
    const broken = exchanges.failure(req);
    if (broken !== undefined && !(reply.kind === 'error' && reply.code === broken)) {
      if (reply.kind === 'stream') reply.body.close('client_closed');
      reply = { ...failure(broken), log: reply.log };
    }

    const extra: Record<string, string> = { 'X-Request-ID': requestId };
    if (lifecycle.shuttingDown) extra['Connection'] = 'close';
    if (!req.complete) exchanges.answered(req);
    if (!res.shouldKeepAlive || closesConnection(reply, extra)) {
      exchanges.closing(req.socket);
      closeInStages(req);
    }
    const { status, streamed } = send(res, reply, extra, deps.reading.streams);
    // For a streamed body this is the time to its head: a stream's lifetime is not a latency.
    const entry: AccessEntry = {
      requestId, method, path, route, status, latencyMs: clock.monotonicMs() - started, log: reply.log,
      uncounted: isSelfCheck(route, req.headers['user-agent']),
    };
    if (streamed === null || reply.kind !== 'stream') {
      record(entry);
      return;
    }
    // A streamed response is counted when its head is sent, and logged when it ends, with how long
    // it ran and how it ended.
    record.count(entry);
    const outcome = await streamed;
    if (outcome.error !== undefined) logger.error('stream failed', outcome.error, { request_id: requestId, path });
    record.line({ ...entry, log: { ...reply.log, duration_ms: round(clock.monotonicMs() - started), bytes: outcome.bytes, stream_end: outcome.end, ...reply.body.log?.() } });
  }

  return (req, res) => {
    // Pipelined behind a response that closes the connection: never processed, never answered.
    if (exchanges.isClosing(req.socket)) return;
    req.on('error', () => {}); // a client reset is not our error; the body reader reports it
    handle(req, res).catch((err: unknown) => {
      logger.error('response failed', err);
      res.destroy();
    });
  };
}

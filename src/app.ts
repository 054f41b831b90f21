// createApp(deps) → a plain node:http listener. A request flows one way: framing checks → router →
// handler → a returned Reply → the single responder → one access-log line and the metrics.
// Unexpected errors are caught here, once, and become a bare 500; their details go only to the log.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from './config.ts';
import { getStats, listMessages } from './messages/handlers.ts';
import { live, ready, type Lifecycle } from './health/handlers.ts';
import type { BodyGate } from './http/body-gate.ts';
import type { Exchanges } from './http/exchanges.ts';
import { checkRequestHead } from './http/framing.ts';
import { failure, type Reply } from './http/reply.ts';
import { pickRequestId } from './http/request-id.ts';
import { closesConnection, send } from './http/respond.ts';
import { createRouter, type Routes } from './http/router.ts';
import type { BurstLog } from './log/burst.ts';
import type { LogFields, Logger } from './log/logger.ts';
import { scrapeMetrics } from './metrics/handler.ts';
import { UNMATCHED_PATH, type ServiceMetrics } from './metrics/service-metrics.ts';
import type { Store } from './storage/store.ts';
import { handleWebhook } from './webhook/handler.ts';
import type { InFlightLimit } from './webhook/in-flight.ts';

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
  /** Bounds bodies still arriving before their signature is checked (http/body-gate.ts). */
  bodyGate: BodyGate;
  /** Requests whose framing broke after they reached the app (http/client-errors.ts). */
  exchanges: Exchanges;
  /** Storage failures logged once per burst. */
  storageFaults: BurstLog;
};

type RequestContext = { req: IncomingMessage; query: URLSearchParams };
export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

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
};

function levelFor(status: number): 'info' | 'warn' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

export function createRecorder(deps: Pick<AppDeps, 'metrics' | 'logger'>): (entry: AccessEntry) => void {
  return (entry) => {
    deps.metrics.httpRequests.inc([entry.route, String(entry.status)]);
    deps.metrics.latency.observe(entry.latencyMs);
    deps.logger.line(levelFor(entry.status), {
      request_id: entry.requestId,
      method: entry.method,
      path: entry.path,
      status: entry.status,
      latency_ms: Math.round(entry.latencyMs * 100) / 100,
      ...entry.log,
    });
  };
}

// RFC 9110 §10.1.1; the same test node:http uses to tell 100-continue from other expectations.
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

function unmetExpectation(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return expect !== undefined && req.httpVersionMinor === 1 && !CONTINUE.test(expect);
}

/** The route table: path → method → handler. HEAD is served by GET (see router.ts). */
export function routeTable(deps: AppDeps): Routes<Handler> {
  const { config, store, lifecycle } = deps;
  return {
    '/webhook': { POST: ({ req }) => handleWebhook(deps, req) },
    '/messages': { GET: ({ query }) => listMessages(deps, query) },
    '/stats': { GET: () => getStats(deps) },
    '/health/live': { GET: () => live() },
    '/health/ready': { GET: () => ready({ secretConfigured: config.webhookSecret !== null, store, lifecycle }) },
    '/metrics': { GET: () => scrapeMetrics(deps) },
  };
}

export function createApp(deps: AppDeps): RequestListener {
  const { logger, clock, lifecycle, exchanges } = deps;
  const router = createRouter<Handler>(routeTable(deps));
  const record = createRecorder(deps);

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
      const match = router.match(method, path);
      if (match.kind !== 'not_found') route = match.route;
      try {
        if (unmetExpectation(req)) reply = failure('expectation_failed');
        else if (match.kind === 'found') reply = await match.handler({ req, query: new URLSearchParams(target.query) });
        else if (match.kind === 'method_not_allowed') reply = failure('method_not_allowed', { Allow: match.allow });
        else reply = failure('not_found');
      } catch (err) {
        logger.error('unhandled error', err, { request_id: requestId, method, path });
        reply = failure('internal');
      }
    }
    // The framing broke while the handler ran (a bad chunk, the client's EOF, the request
    // timeout): that is the answer, and the connection closes after it.
    const broken = exchanges.failure(req);
    if (broken !== undefined && !(reply.kind === 'error' && reply.code === broken)) reply = { ...failure(broken), log: reply.log };

    const extra: Record<string, string> = { 'X-Request-ID': requestId };
    if (lifecycle.shuttingDown) extra['Connection'] = 'close';
    if (!req.complete) exchanges.answered(req);
    if (!res.shouldKeepAlive || closesConnection(reply, extra)) exchanges.closing(req.socket);
    const status = send(res, reply, extra);
    record({ requestId, method, path, route, status, latencyMs: clock.monotonicMs() - started, log: reply.log });
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

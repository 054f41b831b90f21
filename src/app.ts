// createApp(deps) → a plain node:http listener. A request flows one way: router → access check →
// handler → a returned Reply → the single responder → one access-log line and the metrics.
// Unexpected errors are caught here, once, and become a bare 500; their details go only to the log.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { allowed, type Access } from './auth/read-token.ts';
import type { Config } from './config.ts';
import { exportMessages } from './messages/export.ts';
import { getStats, listMessages } from './messages/handlers.ts';
import type { Reading } from './messages/reading.ts';
import { openStream } from './messages/stream.ts';
import { live, ready, type Lifecycle } from './health/handlers.ts';
import { CSS_PATH, ICON_PATH, INBOX_PATH, JS_PATH, type InboxAssets } from './inbox/assets.ts';
import { serveAsset } from './inbox/handler.ts';
import { isSelfCheck } from './health/self-check.ts';
import { failure, type Reply } from './http/reply.ts';
import { pickRequestId } from './http/request-id.ts';
import { send } from './http/respond.ts';
import { createRouter, type Routes } from './http/router.ts';
import type { Logger } from './log/logger.ts';
import { scrapeMetrics } from './metrics/handler.ts';
import { UNMATCHED_PATH, type ServiceMetrics } from './metrics/service-metrics.ts';
import type { Store } from './storage/store.ts';
import { handleWebhook } from './webhook/handler.ts';
import type { InFlightLimit } from './webhook/in-flight.ts';
import type { ByteBudget } from './whatsapp/budget.ts';
import { handleWhatsApp } from './whatsapp/handler.ts';
import { handleHandshake } from './whatsapp/handshake.ts';

export type Clock = { now(): Date; monotonicMs(): number };

export type AppDeps = {
  config: Config;
  store: Store;
  metrics: ServiceMetrics;
  logger: Logger;
  clock: Clock;
  lifecycle: Lifecycle;
  /** Caps webhook requests in progress; past it they get a fast 503 (see webhook/in-flight.ts). */
  inFlight: InFlightLimit;
  /** Caps the bytes of WhatsApp envelopes held at once (see whatsapp/budget.ts). */
  whatsappBodies: ByteBudget;
  /** Cursors, live tails, exports and the streamed responses in progress (messages/reading.ts). */
  reading: Reading;
  /** The inbox page and its assets, read at start-up (inbox/assets.ts). */
  inbox: InboxAssets;
};

type RequestContext = { req: IncomingMessage; query: URLSearchParams; requestId: string };
export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;
/** One row of the route table: who may call it (the access column) and what answers. */
export type Route = { access: Access; handle: Handler };

const open = (handle: Handler): Route => ({ access: 'open', handle });
/** Needs `Authorization: Bearer <READ_TOKEN>` when READ_TOKEN is set. */
const readers = (handle: Handler): Route => ({ access: 'read_token', handle });

/** Splits the request target into path and query; anything but origin-form matches no route. */
function splitTarget(url: string | undefined): { path: string; query: string } {
  const target = url ?? '';
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

function levelFor(status: number): 'info' | 'warn' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** The route table: path → method → access and handler. HEAD is served by GET (see router.ts). */
export function routeTable(deps: AppDeps): Routes<Route> {
  const { config, store, lifecycle } = deps;
  return {
    '/webhook': { POST: open(({ req }) => handleWebhook(deps, req)) },
    '/webhook/whatsapp': {
      GET: open(({ query }) => handleHandshake(config.whatsappVerifyTokenDigest, query)),
      POST: open(({ req, requestId }) => handleWhatsApp(deps, req, requestId)),
    },
    '/messages': { GET: readers(({ req, query }) => listMessages({ ...deps, cursors: deps.reading.cursors }, query, req)) },
    '/messages/export': { GET: readers(({ query }) => exportMessages({ ...deps, exports: deps.reading.exports }, query)) },
    '/messages/stream': { GET: readers(({ req, query }) => openStream({ ...deps, ...deps.reading }, req, query)) },
    '/stats': { GET: readers(({ req }) => getStats(deps, req)) },
    '/health/live': { GET: open(() => live()) },
    '/health/ready': { GET: open(() => ready({ secretConfigured: config.webhookSecret !== null, store, lifecycle })) },
    '/metrics': { GET: open(() => scrapeMetrics(deps)) },
    // The page and its assets are open; the data it reads needs the token (the page asks for it).
    [INBOX_PATH]: { GET: open(({ req, query }) => serveAsset(deps.inbox.page, req, query, false)) },
    [CSS_PATH]: { GET: open(({ req, query }) => serveAsset(deps.inbox.css, req, query, true)) },
    [JS_PATH]: { GET: open(({ req, query }) => serveAsset(deps.inbox.js, req, query, true)) },
    [ICON_PATH]: { GET: open(({ req, query }) => serveAsset(deps.inbox.icon, req, query, true)) },
  };
}

export function createApp(deps: AppDeps): RequestListener {
  const { config, metrics, logger, clock, lifecycle } = deps;
  const router = createRouter<Route>(routeTable(deps));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = clock.monotonicMs();
    const requestId = pickRequestId(req.headers['x-request-id']);
    const method = req.method ?? 'GET';
    const { path, query } = splitTarget(req.url);
    const match = router.match(method, path);

    let reply: Reply;
    try {
      if (match.kind === 'found') {
        reply = allowed(match.handler.access, config.readToken, req.headers.authorization)
          ? await match.handler.handle({ req, query: new URLSearchParams(query), requestId })
          : failure('unauthorized');
      } else if (match.kind === 'method_not_allowed') reply = failure('method_not_allowed', { Allow: match.allow });
      else reply = failure('not_found');
    } catch (err) {
      logger.error('unhandled error', err, { request_id: requestId, method, path });
      reply = failure('internal');
    }

    const extra: Record<string, string> = { 'X-Request-ID': requestId };
    if (lifecycle.shuttingDown) extra['Connection'] = 'close';
    const { status, streamed } = send(res, reply, extra, deps.reading.streams);
    // For a streamed body this is the time to its head: a stream's lifetime is not a latency.
    const latencyMs = clock.monotonicMs() - started;

    if (!(match.kind === 'found' && isSelfCheck(match.route, req.headers['user-agent']))) {
      metrics.httpRequests.inc([match.kind === 'not_found' ? UNMATCHED_PATH : match.route, String(status)]);
      metrics.latency.observe(latencyMs);
    }
    const line = { request_id: requestId, method, path, status, latency_ms: round(latencyMs), ...reply.log };
    if (streamed === null || reply.kind !== 'stream') {
      logger.line(levelFor(status), line);
      return;
    }
    // A streamed response is logged when it ends, with how long it ran and how it ended.
    const outcome = await streamed;
    if (outcome.error !== undefined) logger.error('stream failed', outcome.error, { request_id: requestId, path });
    logger.line(levelFor(status), { ...line, duration_ms: round(clock.monotonicMs() - started), bytes: outcome.bytes, stream_end: outcome.end, ...reply.body.log?.() });
  }

  return (req, res) => {
    req.on('error', () => {}); // a client reset is not our error; the body reader reports it
    handle(req, res).catch((err: unknown) => {
      logger.error('response failed', err);
      res.destroy();
    });
  };
}

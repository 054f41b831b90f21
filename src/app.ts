// createApp(deps) → a plain node:http listener. A request flows one way: router → handler → a
// returned Reply → the single responder → one access-log line and the metrics. Unexpected errors
// are caught here, once, and become a bare 500; their details go only to the log.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from './config.ts';
import { getStats, listMessages } from './messages/handlers.ts';
import { live, ready, type Lifecycle } from './health/handlers.ts';
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
};

type RequestContext = { req: IncomingMessage; query: URLSearchParams; requestId: string };
export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

/** Splits the request target into path and query; anything but origin-form matches no route. */
function splitTarget(url: string | undefined): { path: string; query: string } {
  const target = url ?? '';
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

function levelFor(status: number): 'info' | 'warn' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** The route table: path → method → handler. HEAD is served by GET (see router.ts). */
export function routeTable(deps: AppDeps): Routes<Handler> {
  const { config, store, lifecycle } = deps;
  return {
    '/webhook': { POST: ({ req }) => handleWebhook(deps, req) },
    '/webhook/whatsapp': {
      GET: ({ query }) => handleHandshake(config.whatsappVerifyTokenDigest, query),
      POST: ({ req, requestId }) => handleWhatsApp(deps, req, requestId),
    },
    '/messages': { GET: ({ query }) => listMessages(deps, query) },
    '/stats': { GET: () => getStats(deps) },
    '/health/live': { GET: () => live() },
    '/health/ready': { GET: () => ready({ secretConfigured: config.webhookSecret !== null, store, lifecycle }) },
    '/metrics': { GET: () => scrapeMetrics(deps) },
  };
}

export function createApp(deps: AppDeps): RequestListener {
  const { metrics, logger, clock, lifecycle } = deps;
  const router = createRouter<Handler>(routeTable(deps));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = clock.monotonicMs();
    const requestId = pickRequestId(req.headers['x-request-id']);
    const method = req.method ?? 'GET';
    const { path, query } = splitTarget(req.url);
    const match = router.match(method, path);

    let reply: Reply;
    try {
      if (match.kind === 'found') reply = await match.handler({ req, query: new URLSearchParams(query), requestId });
      else if (match.kind === 'method_not_allowed') reply = failure('method_not_allowed', { Allow: match.allow });
      else reply = failure('not_found');
    } catch (err) {
      logger.error('unhandled error', err, { request_id: requestId, method, path });
      reply = failure('internal');
    }

    const extra: Record<string, string> = { 'X-Request-ID': requestId };
    if (lifecycle.shuttingDown) extra['Connection'] = 'close';
    const status = send(res, reply, extra);
    const latencyMs = clock.monotonicMs() - started;

    if (!(match.kind === 'found' && isSelfCheck(match.route, req.headers['user-agent']))) {
      metrics.httpRequests.inc([match.kind === 'not_found' ? UNMATCHED_PATH : match.route, String(status)]);
      metrics.latency.observe(latencyMs);
    }
    logger.line(levelFor(status), {
      request_id: requestId,
      method,
      path,
      status,
      latency_ms: Math.round(latencyMs * 100) / 100,
      ...reply.log,
    });
  }

  return (req, res) => {
    req.on('error', () => {}); // a client reset is not our error; the body reader reports it
    handle(req, res).catch((err: unknown) => {
      logger.error('response failed', err);
      res.destroy();
    });
  };
}

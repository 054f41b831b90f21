// The route table: path → method → access and handler. A route's access rule (open, or the read
// token) is a column of the table, checked by the app before the handler runs. HEAD is served by GET
// (see http/router.ts).
import type { IncomingMessage } from 'node:http';
import type { Access } from './auth/read-token.ts';
import type { AppDeps } from './app.ts';
import { live, ready } from './health/handlers.ts';
import type { Reply } from './http/reply.ts';
import type { Routes } from './http/router.ts';
import { CSS_PATH, ICON_PATH, INBOX_PATH, JS_PATH } from './inbox/assets.ts';
import { serveAsset } from './inbox/handler.ts';
import { exportMessages } from './messages/export.ts';
import { getStats, listMessages } from './messages/handlers.ts';
import { openStream } from './messages/stream.ts';
import { scrapeMetrics } from './metrics/handler.ts';
import { handleWebhook } from './webhook/handler.ts';
import { handleWhatsApp } from './whatsapp/handler.ts';
import { handleHandshake } from './whatsapp/handshake.ts';

export type RequestContext = { req: IncomingMessage; query: URLSearchParams; requestId: string };
export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;
/** One row of the route table: who may call it (the access column) and what answers. */
export type Route = { access: Access; handle: Handler };

const open = (handle: Handler): Route => ({ access: 'open', handle });
/** Needs `Authorization: Bearer <READ_TOKEN>` when READ_TOKEN is set. */
const readers = (handle: Handler): Route => ({ access: 'read_token', handle });

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

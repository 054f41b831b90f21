// Assembles the running service from a Config: store, metrics, logger, the app, and a node:http
// server with timeouts and graceful shutdown. main.ts and the integration tests both start it here.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createApp, createRecorder, type Clock } from './app.ts';
import type { Config } from './config.ts';
import type { Lifecycle } from './health/handlers.ts';
import { BODY_GATE_DEFAULTS, createBodyGate, type BodyGateOptions } from './http/body-gate.ts';
import { createClientErrorHandler } from './http/client-errors.ts';
import { createExchanges } from './http/exchanges.ts';
import { pickRequestId } from './http/request-id.ts';
import { loadInbox } from './inbox/assets.ts';
import { createBurstLog } from './log/burst.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { createReading } from './messages/reading.ts';
import { createServiceMetrics, UNMATCHED_PATH, type ServiceMetrics } from './metrics/service-metrics.ts';
import { openConfiguredStore } from './storage/open.ts';
import { createInFlightLimit, MAX_IN_FLIGHT_WEBHOOKS } from './webhook/in-flight.ts';
import type { Store } from './storage/store.ts';
import { budgetFor, createByteBudget } from './whatsapp/budget.ts';

export const TIMEOUT_MS = 10_000;

export type ServiceOptions = {
  /** Where log lines go (stdout in production). */
  write: (line: string) => void;
  clock?: Clock;
  /** A store to use instead of opening the one DATABASE_URL names (tests inject failing ones). */
  store?: Store;
  busyTimeoutMs?: number;
  /** Overrides config.shutdownGraceSeconds (tests use fractions of a second). */
  shutdownGraceMs?: number;
  /** Header and whole-request timeout (tests shorten it). */
  timeoutMs?: number;
  /** Verified webhook deliveries in progress at once before new ones get a fast 503 "server busy". */
  maxInFlightWebhooks?: number;
  /** Bytes of WhatsApp bodies held at once before new ones get a fast 503 "server busy". */
  whatsappBodyBudgetBytes?: number;
  /** Live tails: the heartbeat period and the unread bytes that cut a client off (tests shorten them). */
  streamHeartbeatMs?: number;
  streamMaxUnreadBytes?: number;
  /** Limits on bodies read before their signature is checked (tests shorten them). */
  bodyGate?: Partial<Omit<BodyGateOptions, 'now' | 'onRefused'>>;
};

export type RunningService = {
  server: Server;
  port: number;
  url: string;
  logger: Logger;
  metrics: ServiceMetrics;
  store: Store;
  /** Readiness goes 503, no new connections, in-flight requests finish, the database closes. */
  shutdown(reason: string): Promise<void>;
};

const systemClock: Clock = { now: () => new Date(), monotonicMs: () => performance.now() };

/**
 * CONNECT gets no 'request' event from node:http; it is answered by the app like any request (a 400
 * for authority-form, this being no proxy; a 405 on a known path), then the connection closes.
 */
function answerConnect(app: (req: IncomingMessage, res: ServerResponse) => void, req: IncomingMessage, socket: Socket): void {
  socket.on('error', () => {});
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.destroySoon();
  });
  app(req, res);
}

export async function startService(config: Config, options: ServiceOptions): Promise<RunningService> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: config.logLevel, write: options.write, now: () => clock.now() });
  const metrics = createServiceMetrics();
  const lifecycle: Lifecycle = { shuttingDown: false };
  // Before the database opens: a build without the page's files fails its start with nothing left open.
  const inbox = loadInbox();

  let store = options.store;
  if (store === undefined) {
    const opened = await openConfiguredStore(config.database, { now: () => clock.now(), logger, ...(options.busyTimeoutMs !== undefined && { busyTimeoutMs: options.busyTimeoutMs }) });
    store = opened.store;
    logger.info('database ready', opened.ready);
  }
  const inFlight = createInFlightLimit(options.maxInFlightWebhooks ?? MAX_IN_FLIGHT_WEBHOOKS);
  const whatsappBodies = createByteBudget(budgetFor(config.whatsappMaxBodyBytes, options.whatsappBodyBudgetBytes));
  const reading = createReading(config, store, metrics, {
    ...(options.streamHeartbeatMs !== undefined && { heartbeatMs: options.streamHeartbeatMs }),
    ...(options.streamMaxUnreadBytes !== undefined && { maxUnreadBytes: options.streamMaxUnreadBytes }),
  });
  const bodyGate = createBodyGate({
    ...BODY_GATE_DEFAULTS,
    ...options.bodyGate,
    now: () => clock.monotonicMs(),
    onRefused: (reason) => metrics.bodyRefusals.inc([reason]),
  });
  const exchanges = createExchanges();
  const storageFaults = createBurstLog({ logger, now: () => clock.monotonicMs() });
  const app = createApp({ config, store, metrics, logger, clock, lifecycle, inFlight, whatsappBodies, reading, inbox, bodyGate, exchanges, storageFaults });
  const record = createRecorder({ metrics, logger });

  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const server = createServer({
    requestTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    // How often the two timeouts above are enforced (Node's default is every 30 s).
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.round(timeoutMs / 4))),
    keepAliveTimeout: 5_000,
    // The app answers a missing Host with a JSON 400 (http/framing.ts), not node:http with an empty one.
    requireHostHeader: false,
  }, app);
  server.on('clientError', createClientErrorHandler({
    exchanges,
    newRequestId: () => pickRequestId(undefined),
    record: ({ requestId, status, error }) => record({ requestId, method: null, path: null, route: UNMATCHED_PATH, status, latencyMs: 0, log: { error } }),
  }));
  // Expectations other than 100-continue, and CONNECT, would otherwise get node:http's empty 417 or
  // a dropped connection: the app answers them (417 / 400 / 405) with a body, a log line and a count.
  server.on('checkExpectation', app);
  server.on('connect', (req: IncomingMessage, socket: Socket) => answerConnect(app, req, socket));

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close(); // e.g. EADDRINUSE: do not leave the database open behind a failed start
    throw err;
  }
  metrics.start();
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.info('listening', { host: config.host, port, max_body_bytes: config.maxBodyBytes, secret_configured: config.webhookSecret !== null, previous_keys: Math.max(0, config.webhookKeys.length - 1), whatsapp_secret_configured: config.whatsappAppSecret !== null });

  const openStore = store;
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      lifecycle.shuttingDown = true;
      logger.info('shutting down', { reason });
      const force = setTimeout(() => {
        logger.warn('grace period over, closing open connections');
        reading.streams.endAll('all'); // exports still running are aborted, not cut to look complete
        server.closeAllConnections();
      }, options.shutdownGraceMs ?? config.shutdownGraceSeconds * 1000);
      server.close(() => {
        clearTimeout(force);
        metrics.stop();
        bodyGate.stop();
        storageFaults.flush();
        void openStore
          .close()
          .catch((err: unknown) => logger.error('closing the database failed', err))
          .then(() => {
            logger.info('stopped');
            resolve();
          });
      });
      server.closeIdleConnections();
      // Live tails never finish by themselves: they end now (cleanly; clients resume with their
      // last id), so the drain is not held up by them.
      reading.streams.endAll('endless');
    });
    return stopping;
  };

  return { server, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, logger, metrics, store, shutdown };
}

// The service's own metric definitions (names and labels kept from the earlier service), the
// stored-messages gauge and the process metrics, rendered together as one scrape.
import { createCounter, type Counter } from './counter.ts';
import { createGauge, type Gauge } from './gauge.ts';
import { createHistogram, type Histogram } from './histogram.ts';
import { createProcessMetrics, type ProcessReaders } from './process-metrics.ts';
import { systemProcessReaders } from './process-readers.ts';
import { renderMetrics } from './registry.ts';

export const WEBHOOK_RESULTS = [
  'created',
  'duplicate',
  'invalid_signature',
  'validation_error',
  'payload_too_large',
  'unavailable',
  'incomplete_body',
  'overloaded',
] as const;

export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** The `path` label of requests that match no route, so random URLs cannot grow the series. */
export const UNMATCHED_PATH = 'unmatched';

export type ServiceMetrics = {
  httpRequests: Counter;
  webhookRequests: Counter;
  latency: Histogram;
  /** Set from the store at scrape time (see handler.ts); cleared when the store does not answer. */
  storedMessages: Gauge;
  /** Live-tail streams open now (set by messages/subscribers.ts). */
  streamsOpen: Gauge;
  render(): string;
  /** Starts what samples between scrapes (the event-loop delay monitor); the service calls it. */
  start(): void;
  stop(): void;
};

export function createServiceMetrics(processReaders: ProcessReaders = systemProcessReaders()): ServiceMetrics {
  const httpRequests = createCounter({
    name: 'http_requests_total',
    help: 'HTTP requests by route path and status code.',
    labelNames: ['path', 'status'],
  });
  const webhookRequests = createCounter({
    name: 'webhook_requests_total',
    help: 'POST /webhook outcomes.',
    labelNames: ['result'],
    initial: WEBHOOK_RESULTS.map((r) => [r]),
  });
  const latency = createHistogram({
    name: 'request_latency_ms',
    help: 'Time from request arrival to response written (for a streamed export or live tail: to its head written), in milliseconds.',
    buckets: LATENCY_BUCKETS_MS,
  });
  const storedMessages = createGauge({ name: 'messages_stored', help: 'Messages in the database, counted at scrape time.' });
  const streamsOpen = createGauge({ name: 'streams_open', help: 'GET /messages/stream connections open now.' });
  streamsOpen.set(0);
  const processMetrics = createProcessMetrics(processReaders);
  const all = [httpRequests, webhookRequests, latency, storedMessages, streamsOpen, ...processMetrics.collectables];
  return {
    httpRequests,
    webhookRequests,
    latency,
    storedMessages,
    streamsOpen,
    render: () => renderMetrics(all),
    start: () => processMetrics.start(),
    stop: () => processMetrics.stop(),
  };
}

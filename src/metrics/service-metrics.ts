// The service's own metric definitions (names and labels kept from the earlier service), the
// stored-messages gauge and the process metrics, rendered together as one scrape.
import { createCounter, type Counter } from './counter.ts';
import { createGauge, type Gauge } from './gauge.ts';
import { createHistogram, type Histogram } from './histogram.ts';
import { createProcessMetrics, type ProcessReaders } from './process-metrics.ts';
import { systemProcessReaders } from './process-readers.ts';
import { renderMetrics } from './registry.ts';
import { KEY_NAMES } from '../webhook/schemes/keys.ts';
import { SCHEME_NAMES } from '../webhook/schemes/types.ts';

export const WEBHOOK_RESULTS = [
  'created',
  'duplicate',
  'invalid_signature',
  'validation_error',
  'payload_too_large',
  'unavailable',
  'incomplete_body',
  'overloaded',
  'stale_timestamp',
  'body_timeout',
  'bad_request',
] as const;

export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export const WHATSAPP_MESSAGE_RESULTS = ['created', 'duplicate', 'skipped'] as const;
export type WhatsAppMessageResult = (typeof WHATSAPP_MESSAGE_RESULTS)[number];
export const WHATSAPP_STATUSES = ['sent', 'delivered', 'read', 'failed', 'other'] as const;
export type WhatsAppStatus = (typeof WHATSAPP_STATUSES)[number];

export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** The `path` label of requests that match no route, so random URLs cannot grow the series. */
export const UNMATCHED_PATH = 'unmatched';

/** Why a signed route's body was refused or cut before its signature was checked (http/body-gate.ts). */
export const BODY_REFUSALS = ['full', 'evicted', 'deadline'] as const;
export const STORAGE_OPS = ['insert', 'read'] as const;

export type ServiceMetrics = {
  httpRequests: Counter;
  webhookRequests: Counter;
  /** {scheme, key}: which key verified each delivery, so an operator sees when an old one is unused. */
  signaturesVerified: Counter;
  whatsappMessages: Counter;
  whatsappStatuses: Counter;
  bodyRefusals: Counter;
  storageErrors: Counter;
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
  const signaturesVerified = createCounter({
    name: 'webhook_signatures_verified_total',
    help: 'POST /webhook signatures verified, by scheme and by the key that matched (current, previous_1 … previous_5).',
    labelNames: ['scheme', 'key'],
    initial: SCHEME_NAMES.flatMap((scheme) => KEY_NAMES.map((key) => [scheme, key])),
  });
  const whatsappMessages = createCounter({
    name: 'whatsapp_messages_total',
    help: 'Messages in POST /webhook/whatsapp envelopes answered 200: stored, already stored, or skipped as unmappable or invalid.',
    labelNames: ['result'],
    initial: WHATSAPP_MESSAGE_RESULTS.map((r) => [r]),
  });
  const whatsappStatuses = createCounter({
    name: 'whatsapp_statuses_total',
    help: 'Delivery statuses in POST /webhook/whatsapp envelopes answered 200 (counted, not stored).',
    labelNames: ['status'],
    initial: WHATSAPP_STATUSES.map((s) => [s]),
  });
  const bodyRefusals = createCounter({
    name: 'http_unverified_bodies_refused_total',
    help: 'Bodies of signed routes refused (full) or cut (evicted, deadline) before their signature was checked.',
    labelNames: ['reason'],
    initial: BODY_REFUSALS.map((r) => [r]),
  });
  const storageErrors = createCounter({
    name: 'storage_errors_total',
    help: 'Storage operations that failed (each is also a 503).',
    labelNames: ['op'],
    initial: STORAGE_OPS.map((o) => [o]),
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
  const all = [httpRequests, webhookRequests, signaturesVerified, whatsappMessages, whatsappStatuses, bodyRefusals, storageErrors, latency, storedMessages, streamsOpen, ...processMetrics.collectables];
  return {
    httpRequests,
    webhookRequests,
    signaturesVerified,
    whatsappMessages,
    whatsappStatuses,
    bodyRefusals,
    storageErrors,
    latency,
    storedMessages,
    streamsOpen,
    render: () => renderMetrics(all),
    start: () => processMetrics.start(),
    stop: () => processMetrics.stop(),
  };
}

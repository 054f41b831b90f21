// The service's own metric definitions (names and labels kept from the earlier service).
import { createCounter, type Counter } from './counter.ts';
import { createHistogram, type Histogram } from './histogram.ts';
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
  render(): string;
};

export function createServiceMetrics(): ServiceMetrics {
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
    help: 'Time from request arrival to response written, in milliseconds.',
    buckets: LATENCY_BUCKETS_MS,
  });
  const all = [httpRequests, webhookRequests, latency];
  return { httpRequests, webhookRequests, latency, render: () => renderMetrics(all) };
}

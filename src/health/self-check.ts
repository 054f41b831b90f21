// The image's own HEALTHCHECK (src/healthcheck.cts) names itself in its User-Agent, so that its
// readiness request every interval does not count in http_requests_total or request_latency_ms:
// those show the traffic of clients, probes of Kubernetes and Prometheus included, not the
// container engine's own polling. Anyone can send the header, but it only hides health reads.
export const SELF_CHECK_USER_AGENT = 'webhook-api-healthcheck';
export const SELF_CHECK_ROUTE = '/health/ready';

export function isSelfCheck(route: string, userAgent: string | undefined): boolean {
  return route === SELF_CHECK_ROUTE && userAgent === SELF_CHECK_USER_AGENT;
}

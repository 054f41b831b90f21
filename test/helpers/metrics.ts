// Reading the Prometheus scrape in tests.
import assert from 'node:assert/strict';
import type { TestService } from './service.ts';

export const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** GET /metrics, asserting a 200 with the exact Prometheus content type; returns the text. */
export async function scrape(svc: TestService): Promise<string> {
  const res = await svc.get('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), METRICS_TYPE);
  return res.text();
}

/** The value of the sample line `name{labels}` exactly as written, or undefined when the series is absent. */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

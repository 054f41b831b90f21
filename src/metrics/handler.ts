// GET /metrics: the stored-messages gauge is read from the store when scraped, then everything is
// rendered. A store that fails or throws drops that one sample; the scrape itself never fails.
import { text, type Reply } from '../http/reply.ts';
import type { Store } from '../storage/store.ts';
import { CONTENT_TYPE } from './format.ts';
import type { ServiceMetrics } from './service-metrics.ts';

export type MetricsDeps = { store: Pick<Store, 'stats'>; metrics: ServiceMetrics };

async function storedMessages(store: MetricsDeps['store']): Promise<number | undefined> {
  try {
    const result = await store.stats();
    return result.ok ? result.stats.total_messages : undefined;
  } catch {
    return undefined;
  }
}

export async function scrapeMetrics(deps: MetricsDeps): Promise<Reply> {
  const count = await storedMessages(deps.store);
  if (count === undefined) deps.metrics.storedMessages.clear();
  else deps.metrics.storedMessages.set(count);
  return text(200, deps.metrics.render(), CONTENT_TYPE);
}

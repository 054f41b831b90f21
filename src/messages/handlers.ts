import type { BurstLog } from '../log/burst.ts';
import type { ServiceMetrics } from '../metrics/service-metrics.ts';
import { failure, invalid, json, type Reply } from '../http/reply.ts';
import type { Store } from '../storage/store.ts';
import { parseListQuery } from './query.ts';

export type ReadDeps = { store: Store; metrics: Pick<ServiceMetrics, 'storageErrors'>; storageFaults: BurstLog };

function unavailable(deps: ReadDeps, error: unknown): Reply {
  deps.metrics.storageErrors.inc(['read']);
  deps.storageFaults.failed('read', 'storage read failed', error);
  return failure('storage_unavailable');
}

function available<T>(deps: ReadDeps, value: T): T {
  deps.storageFaults.succeeded('read');
  return value;
}

export async function listMessages(deps: ReadDeps, params: URLSearchParams): Promise<Reply> {
  const parsed = parseListQuery(params);
  if (!parsed.ok) return invalid(parsed.errors);
  const result = await deps.store.list(parsed.filter);
  if (!result.ok) return unavailable(deps, result.error);
  const { limit, offset } = parsed.filter;
  return available(deps, json(200, { data: result.page.data, total: result.page.total, limit, offset }));
}

export async function getStats(deps: ReadDeps): Promise<Reply> {
  const result = await deps.store.stats();
  return result.ok ? available(deps, json(200, result.stats)) : unavailable(deps, result.error);
}

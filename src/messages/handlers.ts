import type { IncomingMessage } from 'node:http';
import type { BurstLog } from '../log/burst.ts';
import type { ServiceMetrics } from '../metrics/service-metrics.ts';
import { failure, invalid, type Reply } from '../http/reply.ts';
import type { Store } from '../storage/store.ts';
import { conditionalJson } from './conditional.ts';
import type { CursorCodec } from './cursor.ts';
import { nextLink } from './link.ts';
import { parseListQuery } from './query.ts';

/** What a read needs to report a storage failure: counted, and logged once per burst. */
export type ReadFaultDeps = { metrics: Pick<ServiceMetrics, 'storageErrors'>; storageFaults: BurstLog };
export type ReadDeps = ReadFaultDeps & { store: Store; cursors: CursorCodec };

export function unavailable(deps: ReadFaultDeps, error: unknown): Reply {
  deps.metrics.storageErrors.inc(['read']);
  deps.storageFaults.failed('read', 'storage read failed', error);
  return failure('storage_unavailable');
}

function available<T>(deps: ReadFaultDeps, value: T): T {
  deps.storageFaults.succeeded('read');
  return value;
}

const ifNoneMatch = (req: IncomingMessage | undefined): string | undefined => {
  const value = req?.headers['if-none-match'];
  return typeof value === 'string' ? value : undefined;
};

export async function listMessages(deps: ReadDeps, params: URLSearchParams, req?: IncomingMessage): Promise<Reply> {
  const parsed = parseListQuery(params, deps.cursors.decode);
  if (!parsed.ok) return invalid(parsed.errors);
  const { filter } = parsed;
  const result = await deps.store.list(filter);
  if (!result.ok) return unavailable(deps, result.error);
  const { page } = result;
  const headers: Record<string, string> = {};
  if (page.next !== null) headers['Link'] = nextLink('/messages', params, filter.limit, deps.cursors.encode(page.next, filter));
  // The body keeps exactly its keys (offset is 0 on cursor pages: a cursor allows no other).
  return available(deps, conditionalJson(ifNoneMatch(req), { data: page.data, total: page.total, limit: filter.limit, offset: filter.offset }, headers));
}

export async function getStats(deps: ReadFaultDeps & Pick<ReadDeps, 'store'>, req?: IncomingMessage): Promise<Reply> {
  const result = await deps.store.stats();
  return result.ok ? available(deps, conditionalJson(ifNoneMatch(req), result.stats)) : unavailable(deps, result.error);
}

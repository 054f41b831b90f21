import type { Logger } from '../log/logger.ts';
import { failure, invalid, json, type Reply } from '../http/reply.ts';
import type { Store } from '../storage/store.ts';
import { parseListQuery } from './query.ts';

export type ReadDeps = { store: Store; logger: Logger };

function unavailable(deps: ReadDeps, error: unknown): Reply {
  deps.logger.error('storage read failed', error);
  return failure('storage_unavailable');
}

export async function listMessages(deps: ReadDeps, params: URLSearchParams): Promise<Reply> {
  const parsed = parseListQuery(params);
  if (!parsed.ok) return invalid(parsed.errors);
  const result = await deps.store.list(parsed.filter);
  if (!result.ok) return unavailable(deps, result.error);
  const { limit, offset } = parsed.filter;
  return json(200, { data: result.page.data, total: result.page.total, limit, offset });
}

export async function getStats(deps: ReadDeps): Promise<Reply> {
  const result = await deps.store.stats();
  return result.ok ? json(200, result.stats) : unavailable(deps, result.error);
}

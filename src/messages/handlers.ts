import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { failure, invalid, type Reply } from '../http/reply.ts';
import type { Store } from '../storage/store.ts';
import { conditionalJson } from './conditional.ts';
import type { CursorCodec } from './cursor.ts';
import { nextLink } from './link.ts';
import { parseListQuery } from './query.ts';

export type ReadDeps = { store: Store; logger: Logger; cursors: CursorCodec };

function unavailable(deps: Pick<ReadDeps, 'logger'>, error: unknown): Reply {
  deps.logger.error('storage read failed', error);
  return failure('storage_unavailable');
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
  return conditionalJson(ifNoneMatch(req), { data: page.data, total: page.total, limit: filter.limit, offset: filter.offset }, headers);
}

export async function getStats(deps: Pick<ReadDeps, 'store' | 'logger'>, req?: IncomingMessage): Promise<Reply> {
  const result = await deps.store.stats();
  return result.ok ? conditionalJson(ifNoneMatch(req), result.stats) : unavailable(deps, result.error);
}

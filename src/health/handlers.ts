import { json, type Reply } from '../http/reply.ts';
import type { Store } from '../storage/store.ts';

export type Lifecycle = { shuttingDown: boolean };

export type ReadyDeps = { secretConfigured: boolean; store: Pick<Store, 'ping' | 'writable'>; lifecycle: Lifecycle };

/** Liveness: the process answers. No I/O, so a slow disk never gets a healthy process restarted. */
export function live(): Reply {
  return json(200, { status: 'ok' });
}

/** Readiness: worth sending traffic to. Reasons name the failed checks, never their values. */
export async function ready(deps: ReadyDeps): Promise<Reply> {
  const reasons: string[] = [];
  if (deps.lifecycle.shuttingDown) reasons.push('shutting down');
  if (!deps.secretConfigured) reasons.push('webhook secret not configured');
  if (!(await deps.store.ping())) reasons.push('database not answering');
  else if (!(await deps.store.writable())) reasons.push('database not writable');
  return reasons.length === 0 ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reasons });
}

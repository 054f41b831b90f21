// Several replicas of the real service (src/main.ts as child processes) on one PostgreSQL
// database, and a load generator that spreads signed deliveries over them and remembers which
// were acknowledged, for the multi-replica and fault tests.
import { startChildService, type ChildService } from './child-service.ts';
import { createPool, type Outcome, type Pool } from './http-client.ts';
import { message, SECRET, signBody } from './service.ts';
import { pgQuery } from './test-database.ts';

type AfterHook = { after(fn: () => unknown): void };

export type Replica = ChildService & {
  url: string;
  pool: Pool;
  deliver(body: Record<string, unknown>): Promise<Outcome>;
  get(path: string): Promise<Outcome>;
};

export async function startReplica(t: AfterHook, databaseUrl: string, env: Record<string, string> = {}): Promise<Replica> {
  const child = await startChildService(t, { WEBHOOK_SECRET: SECRET, DATABASE_URL: databaseUrl, SHUTDOWN_GRACE_SECONDS: '1', ...env });
  const pool = createPool(child.port, 32);
  t.after(() => pool.close());
  return {
    ...child,
    url: `http://127.0.0.1:${child.port}`,
    pool,
    deliver(body) {
      const text = JSON.stringify(body);
      return pool.send('POST', '/webhook', text, { 'Content-Type': 'application/json', 'X-Signature': signBody(text) });
    },
    get: (path) => pool.send('GET', path),
  };
}

/** `count` replicas started at the same moment (so they migrate a fresh database together). */
export function startReplicas(t: AfterHook, databaseUrl: string, count: number, env: Record<string, string> = {}): Promise<Replica[]> {
  return Promise.all(Array.from({ length: count }, () => startReplica(t, databaseUrl, env)));
}

export type LoadResult = {
  /** Ids answered 200: each must be stored. */
  acked: Set<string>;
  /** Every status seen, 0 for a connection that failed (a killed replica). */
  statuses: Map<number, number>;
  sent: number;
};

export type Load = {
  stop(): Promise<LoadResult>;
  readonly sent: number;
  readonly acked: number;
  /** Resolves once this many deliveries (in all) have been acknowledged; fails after `ms`. */
  untilAcked(count: number, ms?: number): Promise<void>;
};

/** Workers that deliver new messages, round-robin over the live replicas, until stop(). */
export function startLoad(replicas: () => readonly Replica[], prefix: string, workers = 12): Load {
  let running = true;
  let n = 0;
  const result: LoadResult = { acked: new Set(), statuses: new Map(), sent: 0 };
  const waiters = new Set<() => void>();
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i += 1) {
      const live = replicas();
      const replica = live[(w + i) % live.length];
      if (replica === undefined) return;
      const id = `${prefix}-${(n += 1)}`;
      result.sent += 1;
      const outcome = await replica.deliver(message({ message_id: id, from: `+1555${String(n % 7).padStart(7, '0')}`, text: `load ${n}` }));
      result.statuses.set(outcome.status, (result.statuses.get(outcome.status) ?? 0) + 1);
      if (outcome.status === 200) {
        result.acked.add(id);
        for (const w of [...waiters]) w();
      }
      // A refused delivery (503, a dead replica) is what a sender retries later: not in a tight loop here.
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
    get sent() {
      return result.sent;
    },
    get acked() {
      return result.acked.size;
    },
    untilAcked(count, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${result.acked.size} deliveries acknowledged, waited for ${count}`));
        }, ms);
        const check = (): void => {
          if (result.acked.size < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export async function storedIds(databaseUrl: string): Promise<Set<string>> {
  return new Set((await pgQuery(databaseUrl, 'SELECT message_id FROM messages')).map((r) => String(r['message_id'])));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const bodyJson = (outcome: Outcome): any => ('body' in outcome ? JSON.parse(outcome.body) : null);

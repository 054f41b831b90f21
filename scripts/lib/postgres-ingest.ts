// Bench part 4 (`npm run bench -- --postgres`): ingest into PostgreSQL with one replica and with
// three, beside SQLite, in alternating rounds with the same load (connections split evenly over a
// configuration's replicas), as ratios to SQLite. The server is a throwaway local cluster
// (test/helpers/postgres.ts: fsync on, synchronous_commit on), so the numbers include its WAL
// flushes on this machine's disk. While the three replicas run, the server's backends are sampled
// every 10 ms in pg_stat_activity: what they wait on says what limits the rate. The arrival lock's
// cost is measured in the same rounds: three more replicas run on a database whose store function
// has the lock taken out (unsafe: seqs may then commit out of order; for this measurement only).
import { join } from 'node:path';
import { createPool, parsePostgresUrl, type PgClient } from '../../src/storage/postgres/client.ts';
import { startCluster } from '../../test/helpers/postgres.ts';
import type { ServiceChild } from './child.ts';
import { runLoad, type LoadResult } from './raw-load.ts';
import { latency, median, type Latency } from './report.ts';
import { webhookPicker, webhookPool } from './workload.ts';

export type Configuration = 'sqlite' | 'postgres_1' | 'postgres_3' | 'postgres_3_no_lock';
const CONFIGURATIONS: readonly Configuration[] = ['sqlite', 'postgres_1', 'postgres_3', 'postgres_3_no_lock'];
export type PgRound = {
  configuration: Configuration;
  replicas: number;
  rps: number;
  latency: Latency;
  errors: Record<string, number>;
  /** PostgreSQL only: transactions committed per second in the database, and new messages per commit. */
  commits_per_second: number | null;
  messages_per_commit: number | null;
};
export type PostgresIngestResult = {
  connections: number;
  seconds_per_round: number;
  pool_size: number;
  rounds: PgRound[];
  median: Record<Configuration, { rps: number; p50_ms: number; p99_ms: number }>;
  /** req/s of each configuration over SQLite's in the same round, median over rounds. */
  ratio_to_sqlite: { postgres_1: number; postgres_3: number; postgres_3_no_lock: number };
  /** PostgreSQL ×3 over the same without the arrival lock: what the lock costs. */
  ratio_lock: number;
  /** Share of samples of client backends in each state or wait event, during the three-replica rounds. */
  waits_postgres_3: Record<string, number>;
  waits_postgres_3_no_lock: Record<string, number>;
  rows: Record<Configuration, { stored: number; acknowledged_new_ids: number }>;
};

export type PostgresIngestOptions = {
  dir: string;
  secret: string;
  seconds: number;
  rounds: number;
  connections: number;
  dupRatio: number;
  poolPerSecond: number;
  warmupMs: number;
  start: (env: Record<string, string>, log: string) => Promise<ServiceChild>;
  stop: (child: ServiceChild) => Promise<number | null>;
  stats: (port: number) => Promise<Record<string, unknown>>;
  say: (line: string) => void;
  interrupted: () => boolean;
};

const POOL_SIZE = 4;

function merge(results: readonly LoadResult[]): { seconds: number; latencies: number[]; okNew: number; errors: Record<string, number> } {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let okNew = 0;
  for (const r of results) {
    for (const [tag, t] of r.byTag) {
      latencies.push(...t.latenciesMs);
      if (tag === 'new') okNew += t.ok;
      for (const [why, n] of t.errors) errors[`${tag} ${why}`] = (errors[`${tag} ${why}`] ?? 0) + n;
    }
  }
  return { seconds: Math.max(...results.map((r) => r.seconds)), latencies, okNew, errors };
}

/** Samples the wait events of the database's client backends into `counts` until stopped. */
function sampleWaits(pg: PgClient, database: string, counts: Map<string, number>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await pg.query(
        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN%'",
        [database], { name: 'bench_waits' });
      if (r.ok) {
        for (const row of r.rows) {
          const key = row['wait_event'] === null ? `${String(row['state'])} (on CPU)` : `${String(row['state'])}: ${String(row['wait_event_type'])}/${String(row['wait_event'])}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Replaces the store function of that database with one that does not take the arrival lock. */
async function removeArrivalLock(url: string): Promise<void> {
  const parsed = parsePostgresUrl(url);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const pg = createPool(parsed.config, { options: { size: 1 } });
  try {
    const def = await pg.query("SELECT pg_get_functiondef('webhook_api_store_v1'::regproc) AS def");
    if (!def.ok) throw def.error;
    const text = String(def.rows[0]?.['def'] ?? '');
    const without = text.replace('PERFORM pg_advisory_xact_lock(p_lock);', '-- the arrival lock, removed for the measurement');
    if (without === text) throw new Error('the store function does not take the arrival lock where the bench expects it');
    const replaced = await pg.query(without);
    if (!replaced.ok) throw replaced.error;
  } finally {
    await pg.close();
  }
}

const shares = (counts: Map<string, number>): Record<string, number> => {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, Math.round((n / Math.max(1, total)) * 1000) / 1000]));
};

export async function postgresIngest(o: PostgresIngestOptions): Promise<PostgresIngestResult> {
  const cleanups: (() => unknown)[] = [];
  const cluster = await startCluster({ after: (fn) => cleanups.push(fn) });
  const children: ServiceChild[] = [];
  const admin = parsePostgresUrl(cluster.url('postgres', 'sslmode=disable'));
  if (!admin.ok) throw new Error(admin.problems.join('; '));
  const watcher = createPool(admin.config, { options: { size: 1 } });
  try {
    const one = await cluster.createDatabase();
    const three = await cluster.createDatabase();
    const unlocked = await cluster.createDatabase();
    const env = (database: string): Record<string, string> => ({ DATABASE_URL: cluster.url(database, 'sslmode=disable'), PG_POOL_SIZE: String(POOL_SIZE) });
    const services: Record<Configuration, ServiceChild[]> = {
      sqlite: [await o.start({ DATABASE_URL: `sqlite:///${join(o.dir, 'pg-part-sqlite.db')}` }, join(o.dir, 'pg-part-sqlite.log'))],
      postgres_1: [await o.start(env(one), join(o.dir, 'pg-1.log'))],
      // Started together: they migrate the fresh database under the advisory lock.
      postgres_3: await Promise.all([0, 1, 2].map((i) => o.start(env(three), join(o.dir, `pg-3-${i}.log`)))),
      postgres_3_no_lock: await Promise.all([0, 1, 2].map((i) => o.start(env(unlocked), join(o.dir, `pg-3u-${i}.log`)))),
    };
    await removeArrivalLock(cluster.url(unlocked, 'sslmode=disable'));
    children.push(...Object.values(services).flat());
    const rounds: PgRound[] = [];
    const acknowledged: Record<Configuration, number> = { sqlite: 0, postgres_1: 0, postgres_3: 0, postgres_3_no_lock: 0 };
    const databaseOf: Record<Configuration, string | null> = { sqlite: null, postgres_1: one, postgres_3: three, postgres_3_no_lock: unlocked };
    const commitsOf = async (database: string | null): Promise<number | null> => {
      if (database === null) return null;
      const r = await watcher.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [database], { name: 'bench_commits' });
      return r.ok ? Number(r.rows[0]?.['xact_commit'] ?? NaN) : null;
    };
    const waits = new Map<string, number>();
    const waitsUnlocked = new Map<string, number>();
    for (let round = 1; round <= o.rounds && !o.interrupted(); round += 1) {
      for (const configuration of CONFIGURATIONS) {
        const replicas = services[configuration];
        const pool = webhookPool(o.secret, Math.ceil(o.poolPerSecond * (o.seconds + o.warmupMs / 1000)));
        const next = webhookPicker(pool, o.dupRatio);
        const shouldStop = (): boolean => o.interrupted() || replicas.some((c) => !c.alive());
        const per = (i: number): number => Math.floor(o.connections / replicas.length) + (i < o.connections % replicas.length ? 1 : 0);
        const load = (durationMs: number): Promise<LoadResult[]> => Promise.all(replicas.map((c, i) => runLoad({ port: c.port, connections: per(i), durationMs, next, shouldStop })));
        const warm = merge(await load(o.warmupMs));
        const sampler = configuration === 'postgres_3' ? sampleWaits(watcher, three, waits)
          : configuration === 'postgres_3_no_lock' ? sampleWaits(watcher, unlocked, waitsUnlocked) : null;
        const commitsBefore = await commitsOf(databaseOf[configuration]);
        const measured = merge(await load(o.seconds * 1000));
        await sampler?.stop();
        // The statistics collector reports with a delay of up to half a second: wait for it.
        const commitsAfter = databaseOf[configuration] === null ? null : await new Promise<number | null>((resolve) => setTimeout(() => resolve(commitsOf(databaseOf[configuration])), 700));
        const commits = commitsBefore === null || commitsAfter === null ? null : commitsAfter - commitsBefore;
        acknowledged[configuration] += warm.okNew + measured.okNew;
        const l = latency(measured.latencies);
        rounds.push({
          configuration, replicas: replicas.length, rps: measured.latencies.length / measured.seconds, latency: l, errors: measured.errors,
          commits_per_second: commits === null ? null : commits / measured.seconds,
          messages_per_commit: commits === null || commits === 0 ? null : measured.okNew / commits,
        });
        o.say(`round ${round} ${configuration.padEnd(10)} ${Math.round(measured.latencies.length / measured.seconds)} req/s · p50 ${l.p50} ms · p99 ${l.p99} ms`);
      }
    }
    const stored = async (configuration: Configuration): Promise<number> => Number((await o.stats(services[configuration][0]?.port ?? 0))['total_messages']);
    const rows = Object.fromEntries(await Promise.all(CONFIGURATIONS.map(async (c) => [c, { stored: await stored(c), acknowledged_new_ids: acknowledged[c] }] as const))) as PostgresIngestResult['rows'];
    const of = (c: Configuration): PgRound[] => rounds.filter((r) => r.configuration === c);
    const med = (c: Configuration): { rps: number; p50_ms: number; p99_ms: number } => ({
      rps: median(of(c).map((r) => r.rps)),
      p50_ms: median(of(c).map((r) => r.latency.p50 ?? NaN)),
      p99_ms: median(of(c).map((r) => r.latency.p99 ?? NaN)),
    });
    const ratio = (c: Configuration, to: Configuration = 'sqlite'): number => median(of(c).map((r, i) => r.rps / (of(to)[i]?.rps ?? NaN)));
    return {
      connections: o.connections,
      seconds_per_round: o.seconds,
      pool_size: POOL_SIZE,
      rounds,
      median: { sqlite: med('sqlite'), postgres_1: med('postgres_1'), postgres_3: med('postgres_3'), postgres_3_no_lock: med('postgres_3_no_lock') },
      ratio_to_sqlite: { postgres_1: ratio('postgres_1'), postgres_3: ratio('postgres_3'), postgres_3_no_lock: ratio('postgres_3_no_lock') },
      ratio_lock: ratio('postgres_3', 'postgres_3_no_lock'),
      waits_postgres_3: shares(waits),
      waits_postgres_3_no_lock: shares(waitsUnlocked),
      rows,
    };
  } finally {
    for (const child of children) await o.stop(child);
    await watcher.close();
    for (const fn of cleanups) fn();
  }
}

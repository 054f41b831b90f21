// Round trips per second of the PostgreSQL client (not a test: nothing passes or fails on timing).
// Against a throwaway local cluster (test/helpers/postgres.ts) unless --url is given. Measures, for
// --seconds each: one query at a time on one connection (latency-bound), pipelined queries on one
// connection (--depth in flight), and the pool (--size connections, --concurrency callers), each
// with an unnamed statement (Parse every time) and a named prepared one.
//
//   node scripts/pg-bench.ts [--seconds 3] [--depth 32] [--size 4] [--concurrency 64] [--url postgres://…]
import { loadavg } from 'node:os';
import { createPool, parsePostgresUrl, type PgClient } from '../src/storage/postgres/client.ts';
import { numberFlag, parseFlags, stringFlag, usageExit } from './lib/cli.ts';
import { fmt, latency, table } from './lib/report.ts';
import { startCluster } from '../test/helpers/postgres.ts';

const USAGE = 'node scripts/pg-bench.ts [--seconds 3] [--depth 32] [--size 4] [--concurrency 64] [--url postgres://…]';
const { flags } = parseFlags(USAGE, { seconds: { type: 'string' }, depth: { type: 'string' }, size: { type: 'string' }, concurrency: { type: 'string' }, url: { type: 'string' } }, 0);
const seconds = numberFlag(USAGE, flags, 'seconds', 3, true);
const depth = numberFlag(USAGE, flags, 'depth', 32);
const size = numberFlag(USAGE, flags, 'size', 4);
const concurrency = numberFlag(USAGE, flags, 'concurrency', 64);

const cleanups: (() => unknown)[] = [];
let url = stringFlag(flags, 'url');
if (url === undefined) {
  const cluster = await startCluster({ after: (fn) => cleanups.push(fn) });
  url = cluster.url('postgres', 'sslmode=disable');
}
const parsed = parsePostgresUrl(url);
if (!parsed.ok) usageExit(USAGE, parsed.problems.join('; '));

const SQL = 'SELECT $1::int4 AS n';

/** `lanes` callers, each issuing one query after another until the time is up. */
async function measure(pool: PgClient, lanes: number, named: boolean): Promise<{ qps: number; p50: number | null; p99: number | null; failures: number }> {
  const end = performance.now() + seconds * 1000;
  const times: number[] = [];
  let failures = 0;
  const lane = async (id: number): Promise<void> => {
    for (let i = 0; performance.now() < end; i++) {
      const started = performance.now();
      const r = await pool.query(SQL, [i + id], named ? { name: 'bench_n' } : {});
      times.push(performance.now() - started);
      if (!r.ok) failures++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: lanes }, (_, id) => lane(id)));
  const elapsed = (performance.now() - started) / 1000;
  const l = latency(times);
  return { qps: times.length / elapsed, p50: l.p50, p99: l.p99, failures };
}

const cases: { name: string; poolSize: number; lanes: number; pipeline: number }[] = [
  { name: 'single (1 connection, 1 in flight)', poolSize: 1, lanes: 1, pipeline: 1 },
  { name: `pipelined (1 connection, ${depth} in flight)`, poolSize: 1, lanes: depth, pipeline: depth },
  { name: `pool (${size} connections, ${concurrency} callers)`, poolSize: size, lanes: concurrency, pipeline: 32 },
];
const rows: string[][] = [];
for (const c of cases) {
  for (const named of [false, true]) {
    const pool = createPool(parsed.config, { options: { size: c.poolSize, pipelineDepth: c.pipeline, maxQueue: 10_000 } });
    await pool.query('SELECT 1');
    const r = await measure(pool, c.lanes, named);
    await pool.close();
    rows.push([c.name, named ? 'named' : 'unnamed', fmt(r.qps, 0), fmt(r.p50), fmt(r.p99), String(r.failures)]);
  }
}
process.stdout.write(`${table(['case', 'statement', 'queries/s', 'p50 ms', 'p99 ms', 'failures'], rows)}\n`);
process.stdout.write(`load average at the end: ${loadavg().map((n) => n.toFixed(2)).join(' ')} (the machine is shared; compare ratios within one run only)\n`);
for (const fn of cleanups) fn();

// `q` on PostgreSQL at the bench's size: a throw-away cluster (test/helpers/postgres.ts), the seeded
// SQLite database copied in through the PostgreSQL Store (scripts/sqlite-to-postgres.ts), then the
// service (dist/) timed on the bench's searches one at a time and 4 at once, without the pg_trgm
// index and with it (built by the service after start-up; its build time and size are printed).
//   npm run build && node scripts/pg-search-bench.ts --from /tmp/webhook-bench-seed-1000000-42-v6.db
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../test/helpers/postgres.ts';
import { postgresDatabase } from '../test/helpers/test-database.ts';
import { parseFlags, stringFlag, usageExit } from './lib/cli.ts';
import { ENTRIES, startServiceChild, type ServiceChild } from './lib/child.ts';
import { requestBytes, runLoad } from './lib/raw-load.ts';

const USAGE = 'node scripts/pg-search-bench.ts --from SEEDED.db';
const { flags } = parseFlags(USAGE, { from: { type: 'string' } }, 0);
const from = stringFlag(flags, 'from') ?? usageExit(USAGE, '--from is required');
const cleanups: (() => unknown)[] = [];
const cluster = await startCluster({ after: (fn) => cleanups.push(fn) });
const name = await cluster.createDatabase();
const url = cluster.url(name, 'sslmode=disable');
const db = postgresDatabase(url);
const say = (s: string): void => void process.stdout.write(`${s}\n`);

let started = Date.now();
const copy = spawnSync(process.execPath, [fileURLToPath(new URL('./sqlite-to-postgres.ts', import.meta.url)), '--from', from], { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'ignore', 'inherit'] });
if (copy.status !== 0) throw new Error('the copy failed');
say(`copied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
await db.sql('DROP INDEX IF EXISTS messages_text_fold_trgm_idx');
await db.sql('VACUUM ANALYZE messages');
const size = async (rel: string): Promise<string> => String((await db.sql(`SELECT pg_size_pretty(pg_relation_size('${rel}')) AS s`))[0]?.['s']);
say(`messages ${await size('messages')}`);

const secret = randomBytes(16).toString('hex');
const searches = [['q=zebracorn (rare)', '/messages?limit=50&q=zebracorn'], ['q=kalo (common)', '/messages?limit=50&q=kalo']] as const;

async function serverMs(service: ServiceChild, log: string, path: string, connections: number, n: number): Promise<string> {
  let sent = 0;
  const tag = randomBytes(4).toString('hex');
  await runLoad({ port: service.port, connections, durationMs: 300_000, next: () => ({ bytes: requestBytes('GET', path, { 'X-Request-ID': `${tag}-${sent}` }), tag: 'q' }), shouldStop: () => (sent >= n ? true : ((sent += 1), false)) });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const ms = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(`"${tag}-`)).map((l) => Number((JSON.parse(l) as { latency_ms: number }).latency_ms)).sort((a, b) => a - b);
  return `p50 ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms · max ${ms.at(-1)?.toFixed(1)} ms (n ${ms.length})`;
}

async function timeAll(label: string, service: ServiceChild, log: string): Promise<void> {
  for (const [what, path] of searches) {
    await serverMs(service, log, path, 1, 2); // warm
    say(`${label} ${what.padEnd(20)} one at a time ${await serverMs(service, log, path, 1, 7)} · 4 at once ${await serverMs(service, log, path, 4, 20)}`);
  }
}

// Without the index: the service would build it at start, so it runs with the pool of a role that
// cannot (pg_trgm dropped for the first run, then installed again).
await db.sql('DROP EXTENSION pg_trgm');
const log1 = join(tmpdir(), `pg-search-${name}-1.log`);
let service = await startServiceChild(ENTRIES['dist'] ?? '', { WEBHOOK_SECRET: secret, DATABASE_URL: url }, log1);
await new Promise((resolve) => setTimeout(resolve, 1_000));
await timeAll('scan ', service, log1);
await service.stop();

await db.sql('CREATE EXTENSION pg_trgm');
const log2 = join(tmpdir(), `pg-search-${name}-2.log`);
started = Date.now();
service = await startServiceChild(ENTRIES['dist'] ?? '', { WEBHOOK_SECRET: secret, DATABASE_URL: url }, log2);
for (;;) {
  const line = readFileSync(log2, 'utf8').split('\n').find((l) => l.includes('"search index"'));
  if (line !== undefined) {
    say(`index: ${line.slice(line.indexOf('search_index'), line.indexOf('search_index') + 30)} after ${((Date.now() - started) / 1000).toFixed(1)} s; ${await size('messages_text_fold_trgm_idx')}`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
await db.sql('ANALYZE messages');
await timeAll('index', service, log2);
await service.stop();
// Where a common term's time goes: its count through the index.
for (const term of ['zebracorn', 'kalo']) {
  const plan = await db.sql(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) SELECT count(*) FROM messages m WHERE m.text_fold LIKE '%${term}%'`);
  say(`count of ${term}:\n  ${plan.map((r) => String(r['QUERY PLAN'])).join('\n  ')}`);
}
for (const fn of cleanups) await fn();

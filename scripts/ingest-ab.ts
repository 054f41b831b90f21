// Ingest of two builds side by side: the same load on each in alternating rounds, each on its own
// database (fresh, or a copy of --db), with the CPU each service thread used per stored message
// read from /proc. How issue 13 measured what keeping the search index costs ingest:
//   node scripts/ingest-ab.ts --a /path/to/baseline/dist/main.js --b dist/main.js [--db seeded.db]
//     [--db-a seeded-for-a.db] [--db-b seeded-for-b.db] [--seconds 5] [--rounds 3] [--connections 64]
//     [--postgres]   (each side on a fresh database of a throwaway PostgreSQL cluster instead)
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../test/helpers/postgres.ts';
import { numberFlag, parseFlags, stringFlag, usageExit } from './lib/cli.ts';
import { startServiceChild, type ServiceChild } from './lib/child.ts';
import { runLoad } from './lib/raw-load.ts';
import { webhookPicker, webhookPool } from './lib/workload.ts';

const USAGE = 'node scripts/ingest-ab.ts --a ENTRY --b ENTRY [--db SEEDED.db] [--db-a A.db] [--db-b B.db] [--seconds 5] [--rounds 3] [--connections 64] [--postgres]';
const { flags } = parseFlags(USAGE, { a: { type: 'string' }, b: { type: 'string' }, db: { type: 'string' }, 'db-a': { type: 'string' }, 'db-b': { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, connections: { type: 'string' }, postgres: { type: 'boolean' } }, 0);
const entries = { a: stringFlag(flags, 'a') ?? usageExit(USAGE, '--a is required'), b: stringFlag(flags, 'b') ?? usageExit(USAGE, '--b is required') };
const seeded = { a: stringFlag(flags, 'db-a') ?? stringFlag(flags, 'db'), b: stringFlag(flags, 'db-b') ?? stringFlag(flags, 'db') };
const seconds = numberFlag(USAGE, flags, 'seconds', 5);
const rounds = numberFlag(USAGE, flags, 'rounds', 3);
const connections = numberFlag(USAGE, flags, 'connections', 64);
const secret = randomBytes(32).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'ingest-ab-'));
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds per thread name (utime + stime) from /proc/<pid>/task/x/stat. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      out.set(name, (out.get(name) ?? 0) + ticks / CLOCK_TICKS);
    } catch {
      // the thread ended
    }
  }
  return out;
}

const cleanups: (() => unknown)[] = [];
const cluster = flags['postgres'] === true ? await startCluster({ after: (fn) => cleanups.push(fn) }) : null;
const services: Record<'a' | 'b', ServiceChild> = {} as Record<'a' | 'b', ServiceChild>;
for (const side of ['a', 'b'] as const) {
  const db = join(dir, `${side}.db`);
  const from = seeded[side];
  if (from !== undefined) copyFileSync(from, db);
  const url = cluster === null ? `sqlite:///${db}` : cluster.url(await cluster.createDatabase(), 'sslmode=disable');
  services[side] = await startServiceChild(entries[side], { WEBHOOK_SECRET: secret, DATABASE_URL: url }, `${db}.log`);
}
// A copied database is read cold at first: let both settle.
await new Promise((resolve) => setTimeout(resolve, seeded.a === undefined && seeded.b === undefined ? 500 : 5_000));

const results: { side: 'a' | 'b'; round: number; rps: number; p99: number; cpuPerRow: Record<string, number> }[] = [];
for (let round = 1; round <= rounds; round += 1) {
  for (const side of (round % 2 === 1 ? ['a', 'b'] : ['b', 'a']) as ('a' | 'b')[]) {
    const child = services[side];
    const next = webhookPicker(webhookPool(secret, 40_000 * (seconds + 1)), 0.1);
    await runLoad({ port: child.port, connections, durationMs: 1_000, next });
    const before = threadCpu(child.pid);
    const run = await runLoad({ port: child.port, connections, durationMs: seconds * 1000, next });
    // Work the load left behind (the index step after the last batch) counts too.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = threadCpu(child.pid);
    const created = run.byTag.get('new')?.ok ?? 0;
    const all = [...(run.byTag.get('new')?.latenciesMs ?? []), ...(run.byTag.get('dup')?.latenciesMs ?? [])].sort((x, y) => x - y);
    const cpuPerRow: Record<string, number> = {};
    for (const [name, s] of after) cpuPerRow[name] = Math.round(((s - (before.get(name) ?? 0)) / Math.max(created, 1)) * 1e6 * 10) / 10;
    const rps = all.length / run.seconds;
    const p99 = all[Math.floor(all.length * 0.99)] ?? NaN;
    results.push({ side, round, rps, p99, cpuPerRow });
    process.stdout.write(`round ${round} ${side}: ${rps.toFixed(0)} req/s · p99 ${p99.toFixed(2)} ms · CPU µs per new row ${JSON.stringify(cpuPerRow)}\n`);
  }
}
for (const side of ['a', 'b'] as const) await services[side].stop();
for (const fn of cleanups) await fn();
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const ratios = Array.from({ length: rounds }, (_, i) => (results.find((r) => r.side === 'b' && r.round === i + 1)?.rps ?? NaN) / (results.find((r) => r.side === 'a' && r.round === i + 1)?.rps ?? NaN));
process.stdout.write(`b/a req/s per round ${ratios.map((r) => r.toFixed(3)).join(' ')} · median ${median(ratios).toFixed(3)}\n`);

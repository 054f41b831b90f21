// CPU per delivery, per thread (not a test; a measuring tool for the ingest hot path). Starts the
// service (dist/ by default) and limit B as children, drives each in turn with the bench's load
// generator, and divides each thread's run time (/proc/<pid>/task/*/schedstat, nanoseconds) over
// the measured window by the requests answered. Threads are grouped: the HTTP (main) thread, the
// SQLite writer and reader, and the rest (V8's GC helpers, libuv's pool). With --pin the children
// run on core 0 and this process (the load) on core 1.
//
// Several builds side by side, interleaved round by round (an A/B of one change on this noisy
// machine): --entries /tmp/before/main.js,dist (a copy of dist/ made before the change, then the
// new build).
//
//   node scripts/ingest-cpu.ts [--entries dist,src,<path to main.js>] [--seconds 5] [--rounds 2] [--connections 64] [--pin] [--no-limit-b] [--node-args "--cpu-prof"]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENTRIES, memoryKiB, startServiceChild, type ServiceChild } from './lib/child.ts';
import { numberFlag, parseFlags, stringFlag } from './lib/cli.ts';
import { runLoad } from './lib/raw-load.ts';
import { fmt, latency } from './lib/report.ts';
import { webhookPicker, webhookPool } from './lib/workload.ts';

const USAGE = 'node scripts/ingest-cpu.ts [--entries dist,src,<main.js>] [--seconds 5] [--rounds 2] [--connections 64] [--pin] [--no-limit-b] [--node-args "..."]';
const { flags } = parseFlags(USAGE, {
  entries: { type: 'string' },
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  pin: { type: 'boolean' },
  'no-limit-b': { type: 'boolean' },
  'node-args': { type: 'string' },
}, 0);
const seconds = numberFlag(USAGE, flags, 'seconds', 5, true);
const rounds = numberFlag(USAGE, flags, 'rounds', 2);
const connections = numberFlag(USAGE, flags, 'connections', 64);
const entries = (stringFlag(flags, 'entries') ?? 'dist').split(',').map((e) => ENTRIES[e] ?? e);
const pin = flags['pin'] === true;
const withLimitB = flags['no-limit-b'] !== true;
const nodeArgs = stringFlag(flags, 'node-args');
const LIMIT_B = fileURLToPath(new URL('./lib/limit-b.ts', import.meta.url));

const secret = randomBytes(32).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'ingest-cpu-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Sets the CPU affinity of every thread of `pid` (taskset -a). */
function affinity(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset failed for ${pid}`);
}

type Threads = Map<string, number>;

function group(comm: string, tid: number, pid: number): string {
  if (tid === pid) return 'http';
  if (comm.includes('sqlite-writer')) return 'writer';
  if (comm.includes('sqlite-reader')) return 'reader';
  if (comm.startsWith('V8') || comm.includes('Worker')) return 'v8/gc';
  return 'other';
}

/** Nanoseconds run per thread group so far. */
function threadTimes(pid: number): Threads {
  const out: Threads = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const g = group(comm, Number(tid), pid);
      out.set(g, (out.get(g) ?? 0) + ns);
    } catch {
      // the thread ended
    }
  }
  return out;
}

async function measure(child: ServiceChild, name: string): Promise<void> {
  const next = webhookPicker(webhookPool(secret, Math.ceil(40_000 * (seconds + 1))), 0.1);
  await runLoad({ port: child.port, connections, durationMs: 1000, next });
  const before = threadTimes(child.pid);
  const result = await runLoad({ port: child.port, connections, durationMs: seconds * 1000, next });
  const after = threadTimes(child.pid);
  const all = [...result.byTag.values()].flatMap((t) => t.latenciesMs);
  const n = all.length;
  const lat = latency(all);
  const parts = [...after].map(([g, ns]) => [g, (ns - (before.get(g) ?? 0)) / 1000 / n] as const).sort();
  const total = parts.reduce((a, [, us]) => a + us, 0);
  const busy = [...after].map(([g, ns]) => `${g} ${fmt(((ns - (before.get(g) ?? 0)) / 1e9 / result.seconds) * 100, 0)}%`).join(' ');
  const mem = memoryKiB(child.pid);
  process.stdout.write(`${name.padEnd(8)} ${fmt(n / result.seconds, 0).padStart(6)} req/s p99 ${fmt(lat.p99)} ms | µs/req: ${parts.map(([g, us]) => `${g} ${fmt(us, 1)}`).join(' · ')} · total ${fmt(total, 1)} | busy ${busy} | peak RSS ${fmt((mem?.peak ?? 0) / 1024, 1)} MiB\n`);
}

process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}${pin ? ', pinned (server core 0, load core 1)' : ''}\n`);
const env: Record<string, string> = nodeArgs === undefined ? {} : { NODE_OPTIONS: `--max-semi-space-size=4 ${nodeArgs}` };
const children: [string, ServiceChild][] = [];
if (withLimitB) children.push(['limit_b', await startServiceChild(LIMIT_B, { WEBHOOK_SECRET: secret, ...env }, join(dir, 'b.log'))]);
for (const [i, entry] of entries.entries()) {
  const name = entries.length === 1 ? 'service' : `svc-${String.fromCharCode(65 + i)}`;
  if (i === 0 || entries.length > 1) process.stdout.write(`${name}: ${entry}\n`);
  children.push([name, await startServiceChild(entry, { WEBHOOK_SECRET: secret, DATABASE_URL: `sqlite:///${join(dir, `s${i}.db`)}`, ...env }, join(dir, `s${i}.log`))]);
}
if (pin) {
  affinity(process.pid, '1');
  for (const [, c] of children) affinity(c.pid, '0');
}
try {
  for (let r = 0; r < rounds; r += 1) for (const [name, c] of children) await measure(c, name);
} finally {
  for (const [, c] of children) await c.stop();
}

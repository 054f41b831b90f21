// Benchmark of the whole service (not a test: nothing here passes or fails on timing).
// Starts the service (dist/main.js by default, as production runs it; --entry src for src/main.ts) as a child on port 0 with a throw-away database and a random secret, warms
// up, then drives signed POST /webhook deliveries (new ids plus duplicates of stored ones) and
// GET /messages?limit=50 reads for a fixed time; prints rate, latency percentiles, errors by
// status and the child's memory (VmRSS / VmHWM from /proc).
//   node scripts/bench.ts [--seconds 10] [--connections 32] [--json]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRIES, startServiceChild, memoryKiB, type ServiceChild } from './lib/child.ts';
import { numberFlag, parseFlags, stringFlag, usageExit } from './lib/cli.ts';
import { newRecorder, runLoad, type Planned } from './lib/load.ts';
import { signedBody } from './lib/message.ts';
import { mib, summarizeAll, table } from './lib/report.ts';

const USAGE =
  'node scripts/bench.ts [--entry dist|src] [--seconds 10] [--connections 32] [--warmup 2] [--read-ratio 0.2] [--dup-ratio 0.1] [--json]';

const { flags } = parseFlags(USAGE, {
  entry: { type: 'string' },
  seconds: { type: 'string' },
  connections: { type: 'string' },
  warmup: { type: 'string' },
  'read-ratio': { type: 'string' },
  'dup-ratio': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}, 0);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
const ratio = (name: string, fallback: number): number => {
  const raw = stringFlag(flags, name);
  const value = raw === undefined ? fallback : Number(raw);
  if (raw !== undefined && (raw.trim() === '' || !(value >= 0 && value <= 1))) usageExit(USAGE, `--${name} must be between 0 and 1`);
  return value;
};
const seconds = numberFlag(USAGE, flags, 'seconds', 10, true);
const connections = numberFlag(USAGE, flags, 'connections', 32);
const entry: string = ENTRIES[stringFlag(flags, 'entry') ?? 'dist'] ?? usageExit(USAGE, '--entry must be dist or src');
if (!existsSync(entry)) usageExit(USAGE, `${entry} does not exist; run npm run build first`);
const warmupSeconds = numberFlag(USAGE, flags, 'warmup', 2, true);
const readRatio = ratio('read-ratio', 0.2);
const dupRatio = ratio('dup-ratio', 0.1);
const asJson = flags['json'] === true;
const say = (line: string): void => { if (!asJson) process.stderr.write(`${line}\n`); };

// --- the workload -------------------------------------------------------------------------------
const secret = randomBytes(32).toString('hex'); // handed to the child only; never printed
const runId = randomBytes(4).toString('hex');
const baseMs = Date.parse('2025-01-01T00:00:00Z');
const stored: number[] = []; // sequence numbers of ids the service acknowledged
let nextSeq = 0;

function webhook(seq: number, kind: 'webhook_new' | 'webhook_dup'): Planned {
  const { body, signature } = signedBody(secret, {
    message_id: `bench-${runId}-${seq}`,
    from: `+1555000${String(seq % 20).padStart(4, '0')}`,
    to: '+15559990000',
    ts: new Date(baseMs + seq * 1000).toISOString(),
    text: `bench message ${seq}`,
  });
  return { kind, method: 'POST', path: '/webhook', headers: { 'Content-Type': 'application/json', 'X-Signature': signature }, body, seq };
}

function next(): Planned {
  const roll = Math.random();
  if (roll < readRatio) return { kind: 'messages', method: 'GET', path: '/messages?limit=50', headers: {} };
  const dup = stored.length > 0 && Math.random() < dupRatio;
  return dup ? webhook(stored[Math.floor(Math.random() * stored.length)] ?? 0, 'webhook_dup') : webhook(nextSeq++, 'webhook_new');
}
const onOk = (plan: Planned): void => { if (plan.kind === 'webhook_new' && plan.seq !== undefined) stored.push(plan.seq); };

// --- the child's lifetime: killed on every way out ---------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
let child: ServiceChild | undefined;
let interrupted = false;
process.on('exit', () => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true; // the load loops stop; the summary of what ran is still printed
    say(`${signal}: stopping`);
  });
}

async function main(): Promise<void> {
  child = await startServiceChild(entry, { WEBHOOK_SECRET: secret, DATABASE_URL: `sqlite:///${join(dir, 'app.db')}` });
  const svc = child;
  const shouldStop = (): boolean => interrupted || !svc.alive();
  const memStart = memoryKiB(svc.pid);
  say(`service pid ${svc.pid} on port ${svc.port}; warm-up ${warmupSeconds}s, then ${seconds}s with ${connections} connections`);

  await runLoad({ port: svc.port, connections, durationMs: warmupSeconds * 1000, next, onOk, recorder: null, shouldStop });
  const rowsBefore = stored.length;
  const recorder = newRecorder();
  const measured = await runLoad({ port: svc.port, connections, durationMs: seconds * 1000, next, onOk, recorder, shouldStop });
  // Ctrl-C reaches the child too (same process group); only an unasked-for death is an error.
  if (!svc.alive() && !interrupted) throw new Error(`the service died during the run\n${svc.stderrTail()}`);
  const mem = memoryKiB(svc.pid);

  let rows: number | null = null;
  try {
    const stats: unknown = await (await fetch(`http://127.0.0.1:${svc.port}/stats`)).json();
    const total: unknown = typeof stats === 'object' && stats !== null ? Reflect.get(stats, 'total_messages') : null;
    rows = typeof total === 'number' ? total : null;
  } catch { /* reported as unknown */ }
  const exitCode = await svc.stop();
  child = undefined;

  const summary = summarizeAll(recorder, measured);
  const errors = Object.fromEntries([...recorder.errors].sort(([a], [b]) => a.localeCompare(b)));
  const result = {
    node: process.version,
    seconds: Math.round(measured * 100) / 100,
    warmup_seconds: warmupSeconds,
    connections,
    mix: { read_ratio: readRatio, dup_ratio: dupRatio },
    results: summary,
    errors,
    memory_kib: { rss_after_start: memStart?.rss ?? null, rss_at_end: mem?.rss ?? null, peak_rss: mem?.peak ?? null },
    rows: { stored: rows, acknowledged_new_ids: stored.length, of_which_in_measured_run: stored.length - rowsBefore },
    child_exit_code: exitCode,
    interrupted,
  };
  if (asJson) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [
    `webhook-api bench · node ${process.version} · ${result.seconds}s measured after ${warmupSeconds}s warm-up · ${connections} connections · reads ${readRatio * 100}% · dups ${dupRatio * 100}% of writes${interrupted ? ' · INTERRUPTED' : ''}`,
    '',
    table(summary),
    '',
    `errors:      ${Object.keys(errors).length === 0 ? 'none' : Object.entries(errors).map(([k, n]) => `${k}: ${n}`).join(', ')}`,
    `memory:      peak RSS (VmHWM) ${mib(mem?.peak)} · RSS after start ${mib(memStart?.rss)} · RSS at end ${mib(mem?.rss)}`,
    `rows:        ${rows ?? 'unknown'} stored · ${stored.length} new ids acknowledged${rows !== null && rows !== stored.length ? '  <-- MISMATCH' : ''}`,
    `shutdown:    SIGTERM → exit ${exitCode}${exitCode === 0 ? '' : '  <-- expected 0'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  child?.kill();
}

// Benchmark (not a test: nothing here passes or fails on timing). Two parts, one command:
//
// 1. Ingest. "Limit B" (scripts/lib/limit-b.ts: body, HMAC, JSON.parse, 200 on bare node:http)
//    and the service (dist/main.js by default, with a fresh database, synchronous=FULL) are
//    driven in alternating rounds by the same raw keep-alive load generator with pre-signed
//    distinct bodies and a share of duplicates. Prints req/s, p50/p99 and service/limit-B ratios.
// 2. Reads. A database seeded with --rows messages by scripts/seed.ts's generator (cached in the
//    temp folder between runs) is served by the service; each kind of read is timed one at a
//    time, then ingest p99 is measured alone and with a read load running beside it.
//
//   npm run bench -- [--seconds 5] [--rounds 3] [--connections 64] [--rows 1000000] [--json]
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/storage/sqlite/database.ts';
import { SCHEMA_VERSION } from '../src/storage/sqlite/migrations.ts';
import { ENTRIES, memoryKiB, startServiceChild, type ServiceChild } from './lib/child.ts';
import { numberFlag, parseFlags, stringFlag, usageExit } from './lib/cli.ts';
import { runLoad, requestBytes, type LoadResult } from './lib/raw-load.ts';
import { fmt, latency, median, mib, table, type Latency } from './lib/report.ts';
import { seedDatabase } from './lib/seed-db.ts';
import { BASE_MS, MEAN_GAP_MS, RARE_WORD, sender } from './lib/seed-data.ts';
import { webhookPicker, webhookPool } from './lib/workload.ts';

const USAGE =
  'node scripts/bench.ts [--entry dist|src] [--seconds 5] [--rounds 3] [--connections 64] [--dup-ratio 0.1] [--rows 1000000] [--seed 42] [--skip-ingest] [--skip-reads] [--json]';
const { flags } = parseFlags(USAGE, {
  entry: { type: 'string' },
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  'dup-ratio': { type: 'string' },
  rows: { type: 'string' },
  seed: { type: 'string' },
  'skip-ingest': { type: 'boolean' },
  'skip-reads': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}, 0);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
const seconds = numberFlag(USAGE, flags, 'seconds', 5, true);
const rounds = numberFlag(USAGE, flags, 'rounds', 3);
const connections = numberFlag(USAGE, flags, 'connections', 64);
const rows = numberFlag(USAGE, flags, 'rows', 1_000_000);
const seed = numberFlag(USAGE, flags, 'seed', 42);
const dupRaw = stringFlag(flags, 'dup-ratio');
const dupRatio = dupRaw === undefined ? 0.1 : Number(dupRaw);
if (!(dupRatio >= 0 && dupRatio < 1)) usageExit(USAGE, '--dup-ratio must be at least 0 and below 1');
const entry: string = ENTRIES[stringFlag(flags, 'entry') ?? 'dist'] ?? usageExit(USAGE, '--entry must be dist or src');
if (!existsSync(entry)) usageExit(USAGE, `${entry} does not exist; run npm run build first`);
const asJson = flags['json'] === true;
const say = (line: string): void => void process.stderr.write(`${line}\n`);

const LIMIT_B = fileURLToPath(new URL('./lib/limit-b.ts', import.meta.url));
const WARMUP_MS = 1_000;
/** Requests prepared per round: more than this machine can send in the round. */
const POOL_PER_SECOND = 40_000;

const secret = randomBytes(32).toString('hex'); // handed to the children only; never printed
const dir = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
const children = new Set<ServiceChild>();
let interrupted = false;
process.on('exit', () => {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say(`${signal}: stopping after this round`);
  });
}

async function start(file: string, db: string): Promise<ServiceChild> {
  const child = await startServiceChild(file, { WEBHOOK_SECRET: secret, DATABASE_URL: `sqlite:///${db}` }, `${db}.log`);
  children.add(child);
  return child;
}

async function stop(child: ServiceChild): Promise<number | null> {
  const code = await child.stop();
  children.delete(child);
  return code;
}

async function statsOf(port: number): Promise<Record<string, unknown>> {
  const body: unknown = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
  return typeof body === 'object' && body !== null ? { ...body } : {};
}

const okOf = (r: LoadResult, tag: string): number => r.byTag.get(tag)?.ok ?? 0;
const errorsOf = (r: LoadResult): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [tag, t] of r.byTag) for (const [why, n] of t.errors) out[`${tag} ${why}`] = (out[`${tag} ${why}`] ?? 0) + n;
  return out;
};
const latenciesOf = (r: LoadResult, tags: string[]): number[] => tags.flatMap((t) => r.byTag.get(t)?.latenciesMs ?? []);

// --- part 1: ingest, limit B and the service in alternating rounds --------------------------------
type Round = { server: 'limit_b' | 'service'; rps: number; latency: Latency; errors: Record<string, number> };
type Memory = { rss_after_start: number | null; rss_at_end: number | null; peak_rss: number | null };
type Median = { rps: number; p50_ms: number; p99_ms: number };
type IngestResult = {
  connections: number;
  seconds_per_round: number;
  rounds: Round[];
  median: { limit_b: Median; service: Median };
  ratio_per_round: number[];
  ratio_median: number;
  service_memory_kib: Memory;
  rows: { stored: number; acknowledged_new_ids: number };
  service_exit_code: number | null;
};
type IngestLatency = Latency & { rps: number; errors: Record<string, number> };
type ReadsResult = {
  rows: number;
  /** Client: measured by the bench over loopback. Server: the service's own latency_ms for the same requests. */
  reads: Record<string, { client: Latency; server: Latency }>;
  ingest_with_reads: {
    writer_connections: number;
    reader_connections: number;
    alone: IngestLatency;
    with_reads: IngestLatency & { reads_done: number };
    p99_ratio: number;
  };
  service_memory_kib: Memory;
  service_exit_code: number | null;
};

async function ingest(): Promise<IngestResult> {
  const limitB = await start(LIMIT_B, join(dir, 'unused.db'));
  const service = await start(entry, join(dir, 'ingest.db'));
  const memStart = memoryKiB(service.pid);
  let acknowledged = 0;
  const results: Round[] = [];
  const limitPool = webhookPool(secret, Math.ceil(POOL_PER_SECOND * (seconds + WARMUP_MS / 1000)));
  for (let round = 1; round <= rounds && !interrupted; round += 1) {
    for (const server of ['limit_b', 'service'] as const) {
      const child = server === 'limit_b' ? limitB : service;
      // Limit B stores nothing, so one pool serves all its rounds; the service gets new ids each time.
      const pool = server === 'limit_b' ? limitPool : webhookPool(secret, limitPool.requests.length);
      const next = webhookPicker(pool, dupRatio);
      const shouldStop = (): boolean => interrupted || !child.alive();
      const warm = await runLoad({ port: child.port, connections, durationMs: WARMUP_MS, next, shouldStop });
      const measured = await runLoad({ port: child.port, connections, durationMs: seconds * 1000, next, shouldStop });
      if (server === 'service') acknowledged += okOf(warm, 'new') + okOf(measured, 'new');
      const all = latenciesOf(measured, ['new', 'dup']);
      results.push({ server, rps: all.length / measured.seconds, latency: latency(all), errors: errorsOf(measured) });
      say(`round ${round} ${server.padEnd(7)} ${fmt(all.length / measured.seconds, 0)} req/s · p50 ${fmt(latency(all).p50)} ms · p99 ${fmt(latency(all).p99)} ms`);
    }
  }
  if (!service.alive()) throw new Error(`the service died during the run\n${service.stderrTail()}`);
  const mem = memoryKiB(service.pid);
  const stored = Number((await statsOf(service.port))['total_messages']);
  const exitCode = await stop(service);
  await stop(limitB);

  const of = (server: Round['server']): Round[] => results.filter((r) => r.server === server);
  const med = (server: Round['server'], pick: (r: Round) => number | null): number => median(of(server).map((r) => pick(r) ?? NaN));
  const ratios = of('service').map((r, i) => r.rps / (of('limit_b')[i]?.rps ?? NaN));
  return {
    connections,
    seconds_per_round: seconds,
    rounds: results,
    median: {
      limit_b: { rps: med('limit_b', (r) => r.rps), p50_ms: med('limit_b', (r) => r.latency.p50), p99_ms: med('limit_b', (r) => r.latency.p99) },
      service: { rps: med('service', (r) => r.rps), p50_ms: med('service', (r) => r.latency.p50), p99_ms: med('service', (r) => r.latency.p99) },
    },
    ratio_per_round: ratios,
    ratio_median: median(ratios),
    service_memory_kib: { rss_after_start: memStart?.rss ?? null, rss_at_end: mem?.rss ?? null, peak_rss: mem?.peak ?? null },
    rows: { stored, acknowledged_new_ids: acknowledged },
    service_exit_code: exitCode,
  };
}

// --- part 2: reads on a seeded database -----------------------------------------------------------
function seededDatabase(): string {
  const cached = join(tmpdir(), `webhook-bench-seed-${rows}-${seed}-v${SCHEMA_VERSION}.db`);
  if (!existsSync(cached)) {
    say(`seeding ${rows.toLocaleString('en')} messages into ${cached} (once; reused by later runs)`);
    const partial = `${cached}.partial`;
    rmSync(partial, { force: true });
    const started = Date.now();
    const { db } = openDatabase({ path: partial, busyTimeoutMs: 2_000, role: 'writer' });
    try {
      seedDatabase(db, rows, seed, (done) => { if (done % 100_000 === 0) say(`  ${done.toLocaleString('en')}`); });
    } finally {
      db.close(); // checkpoints the WAL into the file, so the file alone is the database
    }
    renameSync(partial, cached);
    say(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const copy = join(dir, 'reads.db');
  copyFileSync(cached, copy);
  return copy;
}

const READS: readonly { name: string; path: string }[] = [
  { name: '/stats', path: '/stats' },
  { name: 'first page', path: '/messages?limit=50' },
  { name: 'page at offset 100,000', path: '/messages?limit=50&offset=100000' },
  { name: 'from (busiest sender)', path: `/messages?limit=50&from=${encodeURIComponent(sender(0))}` },
  { name: 'since (last ~1%)', path: `/messages?limit=50&since=${new Date(BASE_MS + rows * MEAN_GAP_MS * 0.99).toISOString()}` },
  { name: `q=${RARE_WORD} (rare)`, path: `/messages?limit=50&q=${RARE_WORD}` },
  { name: 'q=kalo (common)', path: '/messages?limit=50&q=kalo' },
];

async function timeRead(port: number, path: string, n: number, tag: string): Promise<Latency> {
  const times: number[] = [];
  for (let i = 0; i < n + 2; i += 1) {
    // The id lets the service's own log line (its latency_ms) be matched to this request.
    const ms = await runOnce(port, requestBytes('GET', path, { 'X-Request-ID': `${tag}-${i}` }));
    if (i >= 2) times.push(ms); // the first two warm the caches
  }
  return latency(times);
}

/** latency_ms the service logged for requests whose X-Request-ID starts with `tag-` (warm-ups skipped). */
function serverLatency(logFile: string, tag: string): Latency {
  const times: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes(`"${tag}-`)) continue;
    const parsed: unknown = JSON.parse(line);
    const id: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'request_id') : undefined;
    const ms: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'latency_ms') : undefined;
    const n = typeof id === 'string' && id.startsWith(`${tag}-`) ? Number(id.slice(tag.length + 1)) : NaN;
    if (n >= 2 && typeof ms === 'number') times.push(ms);
  }
  return latency(times);
}

/** One request on one connection, timed by the load generator itself. */
async function runOnce(port: number, bytes: Buffer): Promise<number> {
  let sent = false;
  const result = await runLoad({ port, connections: 1, durationMs: 60_000, next: () => ({ bytes, tag: 'r' }), shouldStop: () => (sent ? true : ((sent = true), false)) });
  const t = result.byTag.get('r');
  if (t === undefined || t.ok !== 1) throw new Error(`read failed: ${JSON.stringify(errorsOf(result))}`);
  return t.latenciesMs[0] ?? NaN;
}

async function reads(): Promise<ReadsResult> {
  const db = seededDatabase();
  const service = await start(entry, db);
  const memStart = memoryKiB(service.pid);
  const timed: Record<string, { client: Latency; server: Latency }> = {};
  for (const [i, read] of READS.entries()) {
    if (interrupted) break;
    const samples = read.name.startsWith('q=') ? 5 : 30;
    const client = await timeRead(service.port, read.path, samples, `read${i}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the service writes its log line after the response
    timed[read.name] = { client, server: serverLatency(`${db}.log`, `read${i}`) };
    say(`read ${read.name.padEnd(26)} server p50 ${fmt(timed[read.name]?.server.p50)} ms · client p50 ${fmt(client.p50)} ms · p99 ${fmt(client.p99)} ms`);
  }

  // Ingest alone, then with readers running the same mix of reads at the same time.
  const writers = Math.min(connections, 16);
  const alone = await runLoad({ port: service.port, connections: writers, durationMs: seconds * 1000, next: webhookPicker(webhookPool(secret, POOL_PER_SECOND * seconds), dupRatio) });
  const readRequests = READS.map((r) => requestBytes('GET', r.path, {}));
  let nextRead = 0;
  const readLoad = runLoad({ port: service.port, connections: 4, durationMs: seconds * 1000, next: () => ({ bytes: readRequests[nextRead++ % readRequests.length] ?? Buffer.alloc(0), tag: 'read' }) });
  const loaded = await runLoad({ port: service.port, connections: writers, durationMs: seconds * 1000, next: webhookPicker(webhookPool(secret, POOL_PER_SECOND * seconds), dupRatio) });
  const readsDone = await readLoad;
  const mem = memoryKiB(service.pid);
  const exitCode = await stop(service);

  const aloneLatency = latency(latenciesOf(alone, ['new', 'dup']));
  const loadedLatency = latency(latenciesOf(loaded, ['new', 'dup']));
  return {
    rows,
    reads: timed,
    ingest_with_reads: {
      writer_connections: writers,
      reader_connections: 4,
      alone: { rps: (aloneLatency.n / alone.seconds), ...aloneLatency, errors: errorsOf(alone) },
      with_reads: { rps: (loadedLatency.n / loaded.seconds), ...loadedLatency, errors: errorsOf(loaded), reads_done: readsDone.byTag.get('read')?.ok ?? 0 },
      p99_ratio: (loadedLatency.p99 ?? NaN) / (aloneLatency.p99 ?? NaN),
    },
    service_memory_kib: { rss_after_start: memStart?.rss ?? null, rss_at_end: mem?.rss ?? null, peak_rss: mem?.peak ?? null },
    service_exit_code: exitCode,
  };
}

// --- output ----------------------------------------------------------------------------------------
function printIngest(r: IngestResult): string[] {
  const { rounds, median: med, rows: rowsInfo, service_memory_kib: memory } = r;
  return [
    `Ingest: POST /webhook, ${connections} keep-alive connections, ${seconds}s per round after 1s warm-up, ${rounds.length / 2} rounds each, ${dupRatio * 100}% duplicates`,
    table(['round', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors'], rounds.map((x, i) => [String(Math.floor(i / 2) + 1), x.server, fmt(x.rps, 0), fmt(x.latency.p50), fmt(x.latency.p99), Object.keys(x.errors).length === 0 ? '0' : JSON.stringify(x.errors)])),
    '',
    table(['median', 'req/s', 'p50 ms', 'p99 ms'], [
      ['limit B', fmt(med.limit_b.rps, 0), fmt(med.limit_b.p50_ms), fmt(med.limit_b.p99_ms)],
      ['service', fmt(med.service.rps, 0), fmt(med.service.p50_ms), fmt(med.service.p99_ms)],
    ]),
    `ratio service / limit B: ${fmt(r.ratio_median)} (per round: ${r.ratio_per_round.map((x) => fmt(x)).join(', ')})`,
    `service memory: RSS after start ${mib(memory.rss_after_start)}, peak ${mib(memory.peak_rss)}`,
    `rows: ${rowsInfo.stored} stored, ${rowsInfo.acknowledged_new_ids} new ids acknowledged${rowsInfo.stored === rowsInfo.acknowledged_new_ids ? '' : '  <-- MISMATCH'}; exit on SIGTERM: ${String(r.service_exit_code)}`,
  ];
}

function printReads(r: ReadsResult): string[] {
  const { reads: timed, ingest_with_reads: w, service_memory_kib: memory } = r;
  return [
    `Reads on ${rows.toLocaleString('en')} seeded messages, one at a time (server: the service's own latency_ms; client: over loopback)`,
    table(['read', 'n', 'server p50 ms', 'server p99 ms', 'client p50 ms', 'client p99 ms'], Object.entries(timed).map(([name, l]) => [name, String(l.client.n), fmt(l.server.p50), fmt(l.server.p99), fmt(l.client.p50), fmt(l.client.p99)])),
    '',
    `Ingest p99 with ${w.writer_connections} writer connections: alone ${fmt(w.alone.p99)} ms (${fmt(w.alone.rps, 0)} req/s); ` +
      `with 4 connections reading ${fmt(w.with_reads.p99)} ms (${fmt(w.with_reads.rps, 0)} req/s, ${w.with_reads.reads_done} reads done); ratio ${fmt(w.p99_ratio)}`,
    `service memory: RSS after start ${mib(memory.rss_after_start)}, peak ${mib(memory.peak_rss)}`,
  ];
}

try {
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version, load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100) };
  say(`bench: ${machine.cpus} CPUs (${machine.cpu_model}), node ${machine.node}, load average ${machine.load_average_at_start.join(' ')}`);
  const result: { machine: typeof machine; entry: string; ingest?: IngestResult; reads?: ReadsResult } = { machine, entry };
  if (flags['skip-ingest'] !== true) result.ingest = await ingest();
  if (flags['skip-reads'] !== true && !interrupted) result.reads = await reads();
  if (asJson) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines = [`webhook-api bench · ${machine.cpus} CPUs · node ${machine.node} · load average at start ${machine.load_average_at_start.join(' ')}`, ''];
    if (result.ingest !== undefined) lines.push(...printIngest(result.ingest), '');
    if (result.reads !== undefined) lines.push(...printReads(result.reads));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} catch (err) {
  say(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill();
}

// Benchmark (not a test: nothing here passes or fails on timing). Two parts, one command:
//
// 1. Ingest. "Limit B" (scripts/lib/limit-b.ts: body, HMAC, JSON.parse, 200 on bare node:http)
//    and the service (dist/main.js by default, with a fresh database, synchronous=FULL) are
//    driven in alternating rounds by the same raw keep-alive load generator with pre-signed
//    distinct bodies and a share of duplicates. Prints req/s, p50/p99 and service/limit-B ratios,
//    each round run twice: unpinned, and pinned (both servers on core 0, this process — the load
//    generator — on core 1, with taskset), so that the ratio with the server held to one core
//    and the ratio on the shared machine come from the same minute (--pin on|off for one only).
// 2. Reads. A database seeded with --rows messages by scripts/seed.ts's generator (cached in the
//    temp folder between runs) is served by the service; each kind of read is timed one at a
//    time, then ingest p99 is measured alone and with a read load running beside it.
// 3. Reading features on the same seeded database: a cursor page at depth 100,000 (server time,
//    beside the offset page at the same depth), a whole export in NDJSON and in CSV read as fast
//    as the client can (rows/s, and the peak RSS of a service started for that export alone), and
//    ingest with 100 live tails open against none (a child process reads the streams), in
//    alternating rounds, as a ratio.
// 4. With --postgres (it needs PostgreSQL installed; scripts/lib/postgres-ingest.ts): ingest into
//    PostgreSQL with one replica and with three on one database, beside SQLite, in alternating
//    rounds with the same load, as ratios to SQLite, and what the server's backends wait on.
//
//   npm run bench -- [--seconds 5] [--rounds 3] [--connections 64] [--pin both|on|off] [--rows 1000000] [--postgres] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
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
import { postgresIngest, type PostgresIngestResult } from './lib/postgres-ingest.ts';

const USAGE =
  'node scripts/bench.ts [--entry dist|src] [--seconds 5] [--rounds 3] [--connections 64] [--dup-ratio 0.1] [--rows 1000000] [--seed 42] [--streams 100] [--pin both|on|off] [--skip-ingest] [--skip-reads] [--skip-reading] [--postgres] [--json]';
const { flags } = parseFlags(USAGE, {
  entry: { type: 'string' },
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  'dup-ratio': { type: 'string' },
  rows: { type: 'string' },
  seed: { type: 'string' },
  streams: { type: 'string' },
  pin: { type: 'string' },
  'skip-ingest': { type: 'boolean' },
  'skip-reads': { type: 'boolean' },
  'skip-reading': { type: 'boolean' },
  postgres: { type: 'boolean' },
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
const streamCount = numberFlag(USAGE, flags, 'streams', 100);
const dupRaw = stringFlag(flags, 'dup-ratio');
const dupRatio = dupRaw === undefined ? 0.1 : Number(dupRaw);
if (!(dupRatio >= 0 && dupRatio < 1)) usageExit(USAGE, '--dup-ratio must be at least 0 and below 1');
const entry: string = ENTRIES[stringFlag(flags, 'entry') ?? 'dist'] ?? usageExit(USAGE, '--entry must be dist or src');
if (!existsSync(entry)) usageExit(USAGE, `${entry} does not exist; run npm run build first`);
const asJson = flags['json'] === true;
const pinFlag = stringFlag(flags, 'pin') ?? 'both';
/** The ingest part's placements, unpinned first: pinned = the servers on core 0, the load on core 1. */
const placements: readonly boolean[] = pinFlag === 'both' ? [false, true] : pinFlag === 'on' ? [true] : pinFlag === 'off' ? [false] : usageExit(USAGE, '--pin must be both, on or off');
if (placements.includes(true) && cpus().length < 2) usageExit(USAGE, '--pin needs at least 2 CPUs (use --pin off)');
const say = (line: string): void => void process.stderr.write(`${line}\n`);

const LIMIT_B = fileURLToPath(new URL('./lib/limit-b.ts', import.meta.url));
const STREAM_READERS = fileURLToPath(new URL('./lib/stream-readers.ts', import.meta.url));
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
  return startWith(file, { DATABASE_URL: `sqlite:///${db}` }, `${db}.log`);
}

async function startWith(file: string, env: Record<string, string>, log: string): Promise<ServiceChild> {
  const child = await startServiceChild(file, { WEBHOOK_SECRET: secret, ...env }, log);
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
type Round = { server: 'limit_b' | 'service'; pinned: boolean; rps: number; latency: Latency; errors: Record<string, number> };
type Memory = { rss_after_start: number | null; rss_at_end: number | null; peak_rss: number | null };
type Median = { rps: number; p50_ms: number; p99_ms: number };
/** The medians and ratios of one placement's rounds (unpinned, or pinned: server core 0, load core 1). */
type Placement = {
  median: { limit_b: Median; service: Median };
  ratio_per_round: number[];
  ratio_median: number;
};
type IngestResult = {
  connections: number;
  seconds_per_round: number;
  /** Every round, both placements, in the order run. */
  rounds: Round[];
  /** The top-level medians and ratios are the unpinned rounds' (the pinned ones' with --pin on). */
  median: { limit_b: Median; service: Median };
  ratio_per_round: number[];
  ratio_median: number;
  /** Both children on core 0 and the load generator on core 1 (taskset), when run. */
  pinned: Placement | null;
  unpinned: Placement | null;
  service_memory_kib: Memory;
  rows: { stored: number; acknowledged_new_ids: number };
  service_exit_code: number | null;
};
type IngestLatency = Latency & { rps: number; errors: Record<string, number> };
type ReadsResult = {
  rows: number;
  /** Client: measured by the bench over loopback. Server: the service's own latency_ms for the same requests. */
  reads: Record<string, { client: Latency; server: Latency }>;
  /** Searches on CONCURRENT_SEARCHES connections at once, each waiting for its answer before the next. */
  concurrent_searches: Record<string, { connections: number; client: Latency; server: Latency; seconds: number }>;
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

const ALL_CPUS = `0-${cpus().length - 1}`;

/** The CPU affinity of every thread of `pid` (taskset -a -p -c). */
function setAffinity(pid: number, list: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${list} ${pid} failed (is util-linux installed?)`);
}

/** Pinned: the servers on core 0, this process (the load generator) on core 1; else all cores for all. */
function place(pinned: boolean, servers: readonly ServiceChild[]): void {
  for (const child of servers) setAffinity(child.pid, pinned ? '0' : ALL_CPUS);
  setAffinity(process.pid, pinned ? '1' : ALL_CPUS);
}

async function ingest(): Promise<IngestResult> {
  const limitB = await start(LIMIT_B, join(dir, 'unused.db'));
  const service = await start(entry, join(dir, 'ingest.db'));
  const memStart = memoryKiB(service.pid);
  let acknowledged = 0;
  const results: Round[] = [];
  const limitPool = webhookPool(secret, Math.ceil(POOL_PER_SECOND * (seconds + WARMUP_MS / 1000)));
  try {
    for (let round = 1; round <= rounds && !interrupted; round += 1) {
      for (const pinned of placements) {
        place(pinned, [limitB, service]);
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
          results.push({ server, pinned, rps: all.length / measured.seconds, latency: latency(all), errors: errorsOf(measured) });
          say(`round ${round} ${pinned ? 'pinned  ' : 'unpinned'} ${server.padEnd(7)} ${fmt(all.length / measured.seconds, 0)} req/s · p50 ${fmt(latency(all).p50)} ms · p99 ${fmt(latency(all).p99)} ms`);
        }
      }
    }
  } finally {
    if (placements.includes(true)) place(false, [limitB, service].filter((c) => c.alive()));
  }
  if (!service.alive()) throw new Error(`the service died during the run\n${service.stderrTail()}`);
  const mem = memoryKiB(service.pid);
  const stored = Number((await statsOf(service.port))['total_messages']);
  const exitCode = await stop(service);
  await stop(limitB);

  const summary = (pinned: boolean): Placement | null => {
    if (!placements.includes(pinned)) return null;
    const of = (server: Round['server']): Round[] => results.filter((r) => r.server === server && r.pinned === pinned);
    const med = (server: Round['server'], pick: (r: Round) => number | null): number => median(of(server).map((r) => pick(r) ?? NaN));
    const both = (server: Round['server']): Median => ({ rps: med(server, (r) => r.rps), p50_ms: med(server, (r) => r.latency.p50), p99_ms: med(server, (r) => r.latency.p99) });
    const ratios = of('service').map((r, i) => r.rps / (of('limit_b')[i]?.rps ?? NaN));
    return { median: { limit_b: both('limit_b'), service: both('service') }, ratio_per_round: ratios, ratio_median: median(ratios) };
  };
  const unpinned = summary(false);
  const pinned = summary(true);
  const main = unpinned ?? pinned;
  if (main === null) throw new Error('no placement ran');
  return {
    connections,
    seconds_per_round: seconds,
    rounds: results,
    median: main.median,
    ratio_per_round: main.ratio_per_round,
    ratio_median: main.ratio_median,
    pinned,
    unpinned,
    service_memory_kib: { rss_after_start: memStart?.rss ?? null, rss_at_end: mem?.rss ?? null, peak_rss: mem?.peak ?? null },
    rows: { stored, acknowledged_new_ids: acknowledged },
    service_exit_code: exitCode,
  };
}

// --- part 2: reads on a seeded database -----------------------------------------------------------
let copies = 0;
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
      // The search index, built by the writer's own steps (as after an upgrade), so reads use it.
      const indexing = Date.now();
      while (db.indexStep());
      say(`  search index built in ${((Date.now() - indexing) / 1000).toFixed(1)} s`);
    } finally {
      db.close(); // checkpoints the WAL into the file, so the file alone is the database
    }
    renameSync(partial, cached);
    say(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  // A fresh copy per part: a service stopped by SIGKILL after its grace period leaves a -wal file
  // that SQLite would apply to a copy of the same name.
  copies += 1;
  const copy = join(dir, `reads-${copies}.db`);
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

/** Connections searching at once in the concurrent-search part. */
const CONCURRENT_SEARCHES = 4;

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

  // Searches at once: each connection sends the next as soon as it has its answer.
  const concurrent: ReadsResult['concurrent_searches'] = {};
  for (const [i, read] of READS.filter((r) => r.name.startsWith('q=')).entries()) {
    if (interrupted) break;
    let sent = 0;
    const tag = `conc${i}`;
    const run = await runLoad({
      port: service.port, connections: CONCURRENT_SEARCHES, durationMs: 60_000,
      next: () => ({ bytes: requestBytes('GET', read.path, { 'X-Request-ID': `${tag}-${sent + 2}` }), tag: 'q' }),
      shouldStop: () => (sent >= CONCURRENT_SEARCHES * 5 ? true : ((sent += 1), false)),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t = run.byTag.get('q');
    concurrent[read.name] = { connections: CONCURRENT_SEARCHES, client: latency(t?.latenciesMs ?? []), server: serverLatency(`${db}.log`, tag), seconds: run.seconds };
    say(`${CONCURRENT_SEARCHES} at once: ${read.name.padEnd(20)} server p50 ${fmt(concurrent[read.name]?.server.p50)} ms · client p50 ${fmt(concurrent[read.name]?.client.p50)} ms · p99 ${fmt(concurrent[read.name]?.client.p99)} ms · ${t?.ok ?? 0} in ${fmt(run.seconds)} s`);
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
    concurrent_searches: concurrent,
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

// --- part 3: cursors, export, live tails ------------------------------------------------------------
type ExportRun = { rows: number; bytes: number; seconds: number; rows_per_second: number; rss_after_start_kib: number | null; peak_rss_kib: number | null; exit_code: number | null };
type StreamRound = { streams: number; rps: number; p99_ms: number | null; events_per_stream: number | null; streams_cut: number | null };
type ReadingResult = {
  rows: number;
  /** Pages of 50 at depth 100,000 (half the table when it is smaller). */
  pages_at_depth: Record<string, { client: Latency; server: Latency }>;
  exports: Record<string, ExportRun>;
  ingest_with_streams: { streams: number; connections: number; rounds: StreamRound[]; ratio_per_round: number[]; ratio_median: number };
};

/**
 * A whole export read as fast as this process can, on a raw socket. HTTP/1.0, so the body comes
 * unframed until the close and rows can be counted by line ends.
 */
function readExport(port: number, path: string): Promise<{ rows: number; bytes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let bytes = 0;
    let lines = 0;
    let headDone = false;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      let from = 0;
      if (!headDone) {
        const end = chunk.indexOf('\r\n\r\n');
        if (end === -1) return;
        headDone = true;
        if (!chunk.subarray(0, 12).toString('latin1').includes(' 200')) reject(new Error(`export answered ${chunk.subarray(0, 40).toString('latin1')}`));
        from = end + 4;
      }
      for (let at = chunk.indexOf(10, from); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ rows: lines, bytes, seconds: (performance.now() - started) / 1000 }));
    socket.write(`GET ${path} HTTP/1.0\r\nHost: bench\r\n\r\n`);
  });
}

/** Starts the stream readers child and resolves once its streams are all open. */
async function openStreams(port: number, count: number): Promise<{ stop(): Promise<{ events: number; bytes: number; cut: number } | null> }> {
  const child = spawn(process.execPath, [STREAM_READERS, String(port), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const lines: unknown[] = [];
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    for (let at = out.indexOf('\n'); at !== -1; at = out.indexOf('\n')) {
      lines.push(JSON.parse(out.slice(0, at)));
      out = out.slice(at + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const next = (): Promise<unknown> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (lines.length > 0) resolve(lines.shift());
      else if (child.exitCode !== null) reject(new Error('the stream readers exited'));
      else waiters.push(check);
    };
    check();
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await next();
  clearTimeout(timeout);
  return {
    async stop() {
      child.stdin.end();
      const result = await next().catch(() => null);
      if (typeof result !== 'object' || result === null) return null;
      const num = (k: string): number => Number(Reflect.get(result, k));
      return { events: num('events'), bytes: num('bytes'), cut: num('cut') };
    },
  };
}

async function reading(): Promise<ReadingResult> {
  const db = seededDatabase();

  // Pages at depth 100,000 (or half the table if smaller): by offset, and by the cursor that the
  // offset page just before it links to.
  const depth = Math.min(100_000, Math.floor(rows / 2));
  const service = await start(entry, db);
  const linkRes = await fetch(`http://127.0.0.1:${service.port}/messages?limit=50&offset=${depth - 50}`);
  await linkRes.arrayBuffer();
  const next = /^<([^>]+)>/.exec(linkRes.headers.get('link') ?? '')?.[1];
  if (next === undefined) throw new Error(`the page at offset ${depth - 50} has no Link header`);
  const pages: Record<string, { client: Latency; server: Latency }> = {};
  for (const [name, path] of [[`offset=${depth}`, `/messages?limit=50&offset=${depth}`], [`cursor at row ${depth.toLocaleString('en')}`, next], ['first page', '/messages?limit=50']] as const) {
    const tag = `depth-${Object.keys(pages).length}`;
    const client = await timeRead(service.port, path, 30, tag);
    await new Promise((resolve) => setTimeout(resolve, 50));
    pages[name] = { client, server: serverLatency(`${db}.log`, tag) };
    say(`page ${name.padEnd(26)} server p50 ${fmt(pages[name]?.server.p50)} ms · p99 ${fmt(pages[name]?.server.p99)} ms`);
  }
  await stop(service);

  // Exports: a service of its own for each, so its peak RSS is the export's.
  const exports: Record<string, ExportRun> = {};
  for (const format of ['ndjson', 'csv'] as const) {
    if (interrupted) break;
    const child = await start(entry, db);
    const before = memoryKiB(child.pid);
    const run = await readExport(child.port, `/messages/export?format=${format}`);
    const after = memoryKiB(child.pid);
    const exitCode = await stop(child);
    const exported = run.rows - (format === 'csv' ? 1 : 0); // the header row
    if (exported !== rows) say(`export ${format}: ${exported} rows, expected ${rows}  <-- MISMATCH`);
    exports[format] = { rows: exported, bytes: run.bytes, seconds: run.seconds, rows_per_second: exported / run.seconds, rss_after_start_kib: before?.rss ?? null, peak_rss_kib: after?.peak ?? null, exit_code: exitCode };
    say(`export ${format.padEnd(6)} ${fmt(exported / run.seconds, 0)} rows/s · ${mib(run.bytes / 1024)} in ${fmt(run.seconds)} s · peak RSS ${mib(after?.peak)}`);
  }

  // Ingest with live tails open vs none, alternating, on a fresh database.
  const ingestService = await start(entry, join(dir, 'streams.db'));
  const streamRounds: StreamRound[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const count of [0, streamCount]) {
      if (interrupted || !ingestService.alive()) break;
      const readers = count === 0 ? null : await openStreams(ingestService.port, count);
      const next = webhookPicker(webhookPool(secret, Math.ceil(POOL_PER_SECOND * (seconds + WARMUP_MS / 1000))), dupRatio);
      await runLoad({ port: ingestService.port, connections, durationMs: WARMUP_MS, next });
      const measured = await runLoad({ port: ingestService.port, connections, durationMs: seconds * 1000, next });
      const got = readers === null ? null : await readers.stop();
      const all = latenciesOf(measured, ['new', 'dup']);
      streamRounds.push({ streams: count, rps: all.length / measured.seconds, p99_ms: latency(all).p99, events_per_stream: got === null ? null : got.events / count, streams_cut: got?.cut ?? null });
      say(`round ${round} ${String(count).padStart(3)} streams ${fmt(all.length / measured.seconds, 0)} req/s · p99 ${fmt(latency(all).p99)} ms${got === null ? '' : ` · ${fmt(got.events / count, 0)} events per stream, ${got.cut} cut off`}`);
    }
  }
  await stop(ingestService);
  const without = streamRounds.filter((r) => r.streams === 0);
  const withStreams = streamRounds.filter((r) => r.streams > 0);
  const ratios = withStreams.map((r, i) => r.rps / (without[i]?.rps ?? NaN));
  return {
    rows,
    pages_at_depth: pages,
    exports,
    ingest_with_streams: { streams: streamCount, connections, rounds: streamRounds, ratio_per_round: ratios, ratio_median: median(ratios) },
  };
}

// --- output ----------------------------------------------------------------------------------------
function printIngest(r: IngestResult): string[] {
  const { rounds, rows: rowsInfo, service_memory_kib: memory } = r;
  const where = (pinned: boolean): string => (pinned ? 'pinned' : 'unpinned');
  const lines = [
    `Ingest: POST /webhook, ${connections} keep-alive connections, ${seconds}s per round after 1s warm-up, ${dupRatio * 100}% duplicates; ` +
      `unpinned: every process on every core; pinned: limit B and the service on core 0, the load generator on core 1 (taskset)`,
    table(['round', 'placement', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors'], rounds.map((x, i) => [String(Math.floor(i / (2 * placements.length)) + 1), where(x.pinned), x.server, fmt(x.rps, 0), fmt(x.latency.p50), fmt(x.latency.p99), Object.keys(x.errors).length === 0 ? '0' : JSON.stringify(x.errors)])),
    '',
  ];
  const placementRows: [string, Placement][] = [];
  if (r.unpinned !== null) placementRows.push(['unpinned', r.unpinned]);
  if (r.pinned !== null) placementRows.push(['pinned', r.pinned]);
  lines.push(
    table(['median', 'placement', 'req/s', 'p50 ms', 'p99 ms'], placementRows.flatMap(([name, p]) => [
      ['limit B', name, fmt(p.median.limit_b.rps, 0), fmt(p.median.limit_b.p50_ms), fmt(p.median.limit_b.p99_ms)],
      ['service', name, fmt(p.median.service.rps, 0), fmt(p.median.service.p50_ms), fmt(p.median.service.p99_ms)],
    ])),
    ...placementRows.map(([name, p]) => `ratio service / limit B, ${name}: ${fmt(p.ratio_median)} (per round: ${p.ratio_per_round.map((x) => fmt(x)).join(', ')})`),
    `service memory: RSS after start ${mib(memory.rss_after_start)}, peak ${mib(memory.peak_rss)}`,
    `rows: ${rowsInfo.stored} stored, ${rowsInfo.acknowledged_new_ids} new ids acknowledged${rowsInfo.stored === rowsInfo.acknowledged_new_ids ? '' : '  <-- MISMATCH'}; exit on SIGTERM: ${String(r.service_exit_code)}`,
  );
  return lines;
}

function printReads(r: ReadsResult): string[] {
  const { reads: timed, ingest_with_reads: w, service_memory_kib: memory } = r;
  return [
    `Reads on ${rows.toLocaleString('en')} seeded messages, one at a time (server: the service's own latency_ms; client: over loopback)`,
    table(['read', 'n', 'server p50 ms', 'server p99 ms', 'client p50 ms', 'client p99 ms'], Object.entries(timed).map(([name, l]) => [name, String(l.client.n), fmt(l.server.p50), fmt(l.server.p99), fmt(l.client.p50), fmt(l.client.p99)])),
    '',
    `Searches ${CONCURRENT_SEARCHES} at once (each connection sends the next on its answer)`,
    table(['search', 'n', 'server p50 ms', 'server p99 ms', 'client p50 ms', 'client p99 ms'], Object.entries(r.concurrent_searches).map(([name, l]) => [name, String(l.client.n), fmt(l.server.p50), fmt(l.server.p99), fmt(l.client.p50), fmt(l.client.p99)])),
    '',
    `Ingest p99 with ${w.writer_connections} writer connections: alone ${fmt(w.alone.p99)} ms (${fmt(w.alone.rps, 0)} req/s); ` +
      `with 4 connections reading ${fmt(w.with_reads.p99)} ms (${fmt(w.with_reads.rps, 0)} req/s, ${w.with_reads.reads_done} reads done); ratio ${fmt(w.p99_ratio)}`,
    `service memory: RSS after start ${mib(memory.rss_after_start)}, peak ${mib(memory.peak_rss)}`,
  ];
}

function printReading(r: ReadingResult): string[] {
  const w = r.ingest_with_streams;
  return [
    `Reading features on ${rows.toLocaleString('en')} seeded messages`,
    table(['page of 50', 'server p50 ms', 'server p99 ms', 'client p50 ms', 'client p99 ms'], Object.entries(r.pages_at_depth).map(([name, l]) => [name, fmt(l.server.p50), fmt(l.server.p99), fmt(l.client.p50), fmt(l.client.p99)])),
    '',
    table(['export', 'rows/s', 'MiB', 'seconds', 'RSS after start', 'peak RSS'], Object.entries(r.exports).map(([format, e]) => [format, fmt(e.rows_per_second, 0), fmt(e.bytes / 1024 / 1024, 1), fmt(e.seconds), mib(e.rss_after_start_kib), mib(e.peak_rss_kib)])),
    '',
    `Ingest (${w.connections} connections) with ${w.streams} live tails open vs none, alternating rounds:`,
    table(['round', 'streams', 'req/s', 'p99 ms', 'events per stream', 'cut off'], w.rounds.map((x, i) => [String(Math.floor(i / 2) + 1), String(x.streams), fmt(x.rps, 0), fmt(x.p99_ms), fmt(x.events_per_stream, 0), x.streams_cut === null ? '-' : String(x.streams_cut)])),
    `ratio with / without streams: ${fmt(w.ratio_median)} (per round: ${w.ratio_per_round.map((x) => fmt(x)).join(', ')})`,
  ];
}

function printPostgres(r: PostgresIngestResult): string[] {
  const name = { sqlite: 'SQLite', postgres_1: 'PostgreSQL ×1', postgres_3: 'PostgreSQL ×3', postgres_3_no_lock: 'PostgreSQL ×3, no arrival lock (unsafe)' } as const;
  const rows = Object.entries(r.rows).map(([c, x]) => `${name[c as keyof typeof name]} ${x.stored} stored / ${x.acknowledged_new_ids} acknowledged${x.stored === x.acknowledged_new_ids ? '' : ' <-- MISMATCH'}`);
  return [
    `Ingest on PostgreSQL beside SQLite: ${r.connections} connections split over the replicas, ${r.seconds_per_round}s per round after 1s warm-up, PG_POOL_SIZE ${r.pool_size}, a local cluster with fsync and synchronous_commit on`,
    table(['round', 'configuration', 'req/s', 'p50 ms', 'p99 ms', 'commits/s', 'new per commit', 'errors'], r.rounds.map((x, i) => [String(Math.floor(i / 4) + 1), name[x.configuration], fmt(x.rps, 0), fmt(x.latency.p50), fmt(x.latency.p99), fmt(x.commits_per_second, 0), fmt(x.messages_per_commit, 1), Object.keys(x.errors).length === 0 ? '0' : JSON.stringify(x.errors)])),
    '',
    table(['median', 'req/s', 'p50 ms', 'p99 ms', '× SQLite'], (['sqlite', 'postgres_1', 'postgres_3', 'postgres_3_no_lock'] as const).map((c) => [name[c], fmt(r.median[c].rps, 0), fmt(r.median[c].p50_ms), fmt(r.median[c].p99_ms), c === 'sqlite' ? '1' : fmt(r.ratio_to_sqlite[c])])),
    `the arrival lock's cost: PostgreSQL ×3 with it / without it = ${fmt(r.ratio_lock)} (median of the rounds' ratios)`,
    `rows: ${rows.join('; ')}`,
    `PostgreSQL ×3, what the server's client backends were doing (share of 10 ms samples): ${Object.entries(r.waits_postgres_3).slice(0, 8).map(([k, v]) => `${k} ${fmt(v * 100, 1)}%`).join(', ')}`,
    `the same without the arrival lock: ${Object.entries(r.waits_postgres_3_no_lock).slice(0, 8).map(([k, v]) => `${k} ${fmt(v * 100, 1)}%`).join(', ')}`,
  ];
}

try {
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', node: process.version, load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100) };
  say(`bench: ${machine.cpus} CPUs (${machine.cpu_model}), node ${machine.node}, load average ${machine.load_average_at_start.join(' ')}`);
  const result: { machine: typeof machine; entry: string; ingest?: IngestResult; reads?: ReadsResult; reading?: ReadingResult; postgres?: PostgresIngestResult } = { machine, entry };
  if (flags['skip-ingest'] !== true) result.ingest = await ingest();
  if (flags['skip-reads'] !== true && !interrupted) result.reads = await reads();
  if (flags['skip-reading'] !== true && !interrupted) result.reading = await reading();
  if (flags['postgres'] === true && !interrupted) {
    result.postgres = await postgresIngest({
      dir, secret, seconds, rounds, connections, dupRatio, poolPerSecond: POOL_PER_SECOND, warmupMs: WARMUP_MS, say,
      start: (env, log) => startWith(entry, env, log),
      stop,
      stats: statsOf,
      interrupted: () => interrupted,
    });
  }
  if (asJson) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines = [`webhook-api bench · ${machine.cpus} CPUs · node ${machine.node} · load average at start ${machine.load_average_at_start.join(' ')}`, ''];
    if (result.ingest !== undefined) lines.push(...printIngest(result.ingest), '');
    if (result.reads !== undefined) lines.push(...printReads(result.reads), '');
    if (result.reading !== undefined) lines.push(...printReading(result.reading), '');
    if (result.postgres !== undefined) lines.push(...printPostgres(result.postgres));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} catch (err) {
  say(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill();
}

// `npm run test:postgres`: the integration suite a second time (and the reliability tests that
// are about the service rather than its storage engine), with every test service on
// PostgreSQL (TEST_DATABASE=postgres: test/helpers/test-database.ts gives each test a fresh
// database) on one throwaway cluster started here and stopped at the end. Left out, by name:
// - files that test the PostgreSQL client or both backends already (they need no second run);
// - files and tests about SQLite files themselves (locks, WAL, a full disk, the earlier service's
//   file, the worker threads), listed below with the reason; their PostgreSQL counterparts are the
//   store contract and test/integration/replicas*.test.ts.
// Outside CI a machine without PostgreSQL skips this run; under CI it fails.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findBinaries, startCluster } from './helpers/postgres.ts';
import { inCi } from './helpers/tools.ts';

const HERE = import.meta.dirname;

/** Not run again on PostgreSQL: they do not use a test service's database, or run on both already. */
const NOT_AGAIN = new Set([
  'pg-scripted-server.test.ts', 'postgres-client.test.ts', 'postgres-faults.test.ts', 'postgres-tls.test.ts',
  'store-contract.test.ts', 'store-contract-postgres.test.ts', 'postgres-store.test.ts', 'replicas.test.ts', 'replicas-faults.test.ts', 'sqlite-to-postgres.test.ts',
  // Child processes or tools that never open the database through the test helper.
  'dist.test.ts', 'healthcheck.test.ts', 'npm-start.test.ts', 'process.test.ts', 'process-secrets.test.ts', 'process-stop.test.ts', 'sign-cli.test.ts',
]);

/** About SQLite itself: the whole file. */
const SQLITE_FILES = new Set([
  'storage.test.ts', // the earlier service's file upgraded in place, SQLite write locks, WAL durability
  'worker-store.test.ts', // the storage worker threads
  'search-index.test.ts', // SQLite's trigram index and its watermark (PostgreSQL's: postgres-store.test.ts)
  'group-commit.test.ts', // the SQLite writer's batches, poisoned with SQLite triggers
]);

/** About SQLite itself: single tests, by name (regular expressions for --test-skip-pattern). */
const SQLITE_TESTS = [
  'rows inserted behind the service are counted again at the next start', // legacy rows without ts_key, backfilled
  'rows of the earlier service with an unreadable ts are paged by cursor too', // a legacy SQLite file
  'a client that stops reading stops the reads; no snapshot is held meanwhile', // WAL checkpoints while an export pauses
  'a storage failure \\(lock held too long\\) is 503 for the whole POST', // BEGIN EXCLUSIVE on the file
  'a disk that fills up mid-envelope', // PRAGMA max_page_count
  'a stream whose first read was still running when shutdown began', // a gated SQLite worker store
];

/** Reliability tests run again on PostgreSQL: many racing deliveries, and seeded hostile reads. */
const RELIABILITY = ['concurrency.test.ts', 'hostile-reads.test.ts'];

export function postgresSuiteFiles(): string[] {
  const dir = join(HERE, 'integration');
  const integration = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') && !NOT_AGAIN.has(f) && !SQLITE_FILES.has(f))
    .sort()
    .map((f) => join(dir, f));
  return [...integration, ...RELIABILITY.map((f) => join(HERE, 'reliability', f))];
}

async function main(): Promise<number> {
  if (findBinaries() === null) {
    const why = 'PostgreSQL is not installed (Debian package "postgresql"; .ci/run installs it)';
    if (inCi()) {
      process.stderr.write(`test:postgres: ${why}, and CI must run these tests\n`);
      return 1;
    }
    process.stdout.write(`test:postgres: skipped: ${why}\n`);
    return 0;
  }
  const cleanups: (() => unknown)[] = [];
  const cluster = await startCluster({ after: (fn) => cleanups.push(fn) });
  try {
    const args = ['--test', '--test-concurrency=4', ...SQLITE_TESTS.map((pattern) => `--test-skip-pattern=${pattern}`), ...postgresSuiteFiles()];
    const child = spawn(process.execPath, args, {
      stdio: 'inherit',
      env: { ...process.env, TEST_DATABASE: 'postgres', TEST_POSTGRES_URL: cluster.url('postgres', 'sslmode=disable') },
    });
    return await new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
  } finally {
    for (const fn of cleanups) fn();
  }
}

if (import.meta.main) process.exitCode = await main();

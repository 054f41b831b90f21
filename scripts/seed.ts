// Seeds a database with synthetic messages (deterministic for a given --seed), through the
// service's own schema, migrations and insert path, so the read benchmark runs on realistic data.
//   node scripts/seed.ts --db /tmp/seed.db [--rows 1000000] [--seed 42]
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/storage/sqlite/database.ts';
import { numberFlag, parseFlags, stringFlag, usageExit } from './lib/cli.ts';
import { seedDatabase } from './lib/seed-db.ts';

const USAGE = 'node scripts/seed.ts --db PATH [--rows 1000000] [--seed 42]';
const { flags } = parseFlags(USAGE, { db: { type: 'string' }, rows: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 0);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
const path = stringFlag(flags, 'db') ?? usageExit(USAGE, '--db is required');
if (existsSync(path)) usageExit(USAGE, `${path} exists; seed a new file`);
const rows = numberFlag(USAGE, flags, 'rows', 1_000_000);
const seed = numberFlag(USAGE, flags, 'seed', 42);

const started = performance.now();
const { db } = openDatabase({ path, busyTimeoutMs: 2_000, role: 'writer' });
try {
  seedDatabase(db, rows, seed, (done) => process.stderr.write(`\rseeded ${done.toLocaleString('en')} rows`));
  const indexing = performance.now();
  while (db.indexStep()); // the search index, as the service's writer would build it
  process.stderr.write(`\nsearch index built in ${((performance.now() - indexing) / 1000).toFixed(1)} s`);
} finally {
  db.close();
}
process.stderr.write(`\n${rows} rows in ${((performance.now() - started) / 1000).toFixed(1)} s → ${path}\n`);

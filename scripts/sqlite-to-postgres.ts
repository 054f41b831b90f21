// Copies every message of a SQLite database file (this service's, or the earlier service's) into
// the PostgreSQL database DATABASE_URL names, through the PostgreSQL Store's own schema, migrations
// and insert path: in SQLite's arrival order (so seqs follow it), with each row's created_at kept,
// idempotently (a row already there is left as it is), so it can be re-run, or run again after the
// last SQLite writes, without duplicating anything. The SQLite file is only read.
//   DATABASE_URL=postgres://… node scripts/sqlite-to-postgres.ts --from /data/app.db [--batch 500]
// The URL may also come from DATABASE_URL_FILE, as the service reads it; it is never printed.
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig } from '../src/config.ts';
import { isCalendarInstant } from '../src/domain/timestamp.ts';
import type { NewMessage } from '../src/storage/store.ts';
import { openPostgresStore } from '../src/storage/postgres/store/pg-store.ts';
import { MAX_BATCH } from '../src/storage/postgres/store/writer.ts';
import { legacyInstantKey } from '../src/storage/sqlite/legacy-ts.ts';
import { numberFlag, parseFlags, stringFlag, usageExit } from './lib/cli.ts';

const USAGE = 'DATABASE_URL=postgres://… node scripts/sqlite-to-postgres.ts --from PATH [--batch 500]';
const { flags } = parseFlags(USAGE, { from: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 0);
if (flags['help'] === true) {
  process.stdout.write(`usage: ${USAGE}\n`);
  process.exit(0);
}
const path = stringFlag(flags, 'from') ?? usageExit(USAGE, '--from is required (the SQLite file to copy)');
if (!existsSync(path)) usageExit(USAGE, `${path} does not exist`);
const batchSize = Math.min(numberFlag(USAGE, flags, 'batch', 500), MAX_BATCH);

const loaded = loadConfig({ DATABASE_URL: process.env['DATABASE_URL'], DATABASE_URL_FILE: process.env['DATABASE_URL_FILE'], PGSSLROOTCERT: process.env['PGSSLROOTCERT'] });
if (!loaded.ok) usageExit(USAGE, loaded.problems.join('; '));
const target = loaded.config.database;
if (target.kind !== 'postgres') usageExit(USAGE, 'DATABASE_URL must be a postgres:// or postgresql:// URL');

/** created_at in a form PostgreSQL reads (a bare date-time is UTC: the store's sessions are), with a real calendar date. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;
function readableTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  return m !== null && isCalendarInstant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
}
const keyAsTimestamp = (key: string): string => (key === '' ? '1970-01-01T00:00:00Z' : `${key.slice(0, 26)}Z`);

const sqlite = new DatabaseSync(path, { readOnly: true });
const columns = new Set(sqlite.prepare("SELECT name FROM pragma_table_info('messages')").all().map((r) => String(r['name'])));
if (!columns.has('message_id')) usageExit(USAGE, `${path} has no messages table`);
// A file the earlier service wrote has no ts_key yet: the key is computed as the service's migration would.
const select = sqlite.prepare(`SELECT rowid AS r, message_id, from_msisdn, to_msisdn, ts, text, created_at${columns.has('ts_key') ? ', ts_key' : ''}
  FROM messages WHERE rowid > ? ORDER BY rowid LIMIT ?`);

const { store, writer } = await openPostgresStore({ connection: target.connection, poolSize: 2, now: () => new Date() });
let copied = 0;
let created = 0;
let repaired = 0;
let failed: unknown = null;
try {
  let after = 0;
  for (;;) {
    const rows = select.all(after, batchSize);
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]?.['r']);
    const messages: NewMessage[] = rows.map((row) => {
      const ts = String(row['ts']);
      const tsKey = typeof row['ts_key'] === 'string' && row['ts_key'] !== '' ? row['ts_key'] : legacyInstantKey(ts);
      const createdAt = String(row['created_at'] ?? '');
      const readable = readableTimestamp(createdAt.trim());
      if (!readable) repaired += 1;
      return {
        messageId: String(row['message_id']),
        from: String(row['from_msisdn']),
        to: String(row['to_msisdn']),
        ts,
        tsKey,
        text: typeof row['text'] === 'string' ? row['text'] : null,
        createdAt: readable ? createdAt.trim() : keyAsTimestamp(tsKey),
      };
    });
    const results = await writer.insertRows(messages);
    const bad = results.find((r) => !r.ok);
    if (bad !== undefined && !bad.ok) {
      failed = bad.error;
      break;
    }
    copied += results.length;
    created += results.filter((r) => r.ok && r.created).length;
    process.stderr.write(`\rcopied ${copied.toLocaleString('en')} rows`);
  }
} finally {
  sqlite.close();
  await store.close();
}
process.stderr.write('\n');
const summary = { rows: copied, created, already_there: copied - created, created_at_from_ts: repaired };
if (failed !== null) {
  const message = failed instanceof Error ? failed.message : String(failed);
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'copy failed; run again to go on', error: message, ...summary })}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ msg: 'copied', ...summary })}\n`);

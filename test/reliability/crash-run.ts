// Crash durability: drive signed deliveries at the real service from many connections, SIGKILL it
// at a random moment, restart it on the same file, and check that every message_id that got a 200
// is stored, intact, exactly once, and that no other row is anything but a message that was sent.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from '../../src/webhook/signature.ts';
import { startChildService, withinMs, type ChildService } from '../helpers/child-service.ts';
import { createPool } from '../helpers/http-client.ts';
import { createRandom, type Random } from '../helpers/seeded.ts';
import { tempDir } from '../helpers/service.ts';

type TestContext = { after(fn: () => unknown): void; diagnostic(message: string): void };

export const CRASH_SECRET = 'Crash-Test-S3cret-d41f0e';
const CONNECTIONS = 32;
const TEXTS = ['CRASH-TEXT plain', 'CRASH-TEXT émoji 👍🏽 and ñ', 'CRASH-TEXT 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', null, 'CRASH-TEXT '.padEnd(4096, 'ß')];

export type CrashOptions = { kills: number; duplicateRatio: number; seed: number };
export type CrashFigures = {
  seed: number;
  kills: number;
  sent: number;
  acknowledged: number;
  acknowledged_ids: number;
  lost: number;
  unanswered_at_kill: number;
  stored_without_ack: number;
  rows: number;
  non_200_answers: number;
};

type Sent = { body: string; parsed: { message_id: string; from: string; to: string; ts: string; text: string | null } };

function makeMessage(rng: Random, seq: number, label: string): Sent {
  const parsed = {
    message_id: `${label}-${seq}-${rng.int(0, 1e9).toString(36)}`,
    from: `+${rng.int(1, 9)}${String(rng.int(0, 1e9)).padStart(9, '0')}`,
    to: '+14155550100',
    ts: `2025-0${rng.int(1, 9)}-1${rng.int(0, 9)}T1${rng.int(0, 9)}:${rng.int(10, 59)}:${rng.int(10, 59)}${rng.chance(0.3) ? `.${rng.int(1, 999999999)}` : ''}Z`,
    text: rng.pick(TEXTS),
  };
  const body = rng.chance(0.2) ? JSON.stringify(parsed, null, 2) : JSON.stringify(parsed);
  return { body, parsed };
}

/** Checks the file the restarted service has opened (and so recovered): nothing lost, nothing half-written. */
function verifyFile(dbPath: string, sent: ReadonlyMap<string, Sent>, acked: ReadonlySet<string>): { rows: number; storedWithoutAck: number } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    assert.equal(String(db.prepare('PRAGMA integrity_check').get()?.['integrity_check']), 'ok');
    const rows = db.prepare('SELECT message_id, from_msisdn, to_msisdn, ts, text, created_at, ts_key FROM messages').all();
    const seen = new Set<string>();
    let storedWithoutAck = 0;
    for (const row of rows) {
      const id = String(row['message_id']);
      assert.ok(!seen.has(id), `${id} stored twice`);
      seen.add(id);
      const original = sent.get(id);
      assert.ok(original !== undefined, `a row that was never sent: ${id}`);
      const { parsed } = original;
      assert.deepEqual(
        { from: row['from_msisdn'], to: row['to_msisdn'], ts: row['ts'], text: row['text'] },
        { from: parsed.from, to: parsed.to, ts: parsed.ts, text: parsed.text },
        `row ${id} differs from what was sent`,
      );
      assert.ok(String(row['created_at']).length > 0 && String(row['ts_key']).length > 0, `row ${id} half-written`);
      if (!acked.has(id)) storedWithoutAck += 1;
    }
    const lost = [...acked].filter((id) => !seen.has(id));
    assert.deepEqual(lost, [], 'acknowledged messages missing after the crash');
    return { rows: rows.length, storedWithoutAck };
  } finally {
    db.close();
  }
}

async function restart(t: TestContext, dbPath: string): Promise<ChildService> {
  return startChildService(t, { WEBHOOK_SECRET: CRASH_SECRET, DATABASE_URL: dbPath });
}

export async function runCrashCycles(t: TestContext, options: CrashOptions): Promise<CrashFigures> {
  const rng = createRandom(options.seed);
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'crash.db');
  const sent = new Map<string, Sent>();
  const sentIds: string[] = [];
  const acked = new Set<string>();
  let seq = 0;
  let sends = 0;
  let acknowledged = 0;
  let unanswered = 0;
  let non200 = 0;

  for (let cycle = 0; cycle <= options.kills; cycle += 1) {
    const child = await restart(t, dbPath);
    verifyFile(dbPath, sent, acked);
    if (cycle === options.kills) {
      // The last start: the service agrees with the file, then stops cleanly.
      const stats = await (await fetch(`http://127.0.0.1:${child.port}/stats`)).json() as { total_messages: number };
      const { rows, storedWithoutAck } = verifyFile(dbPath, sent, acked);
      assert.equal(stats.total_messages, rows);
      child.proc.kill('SIGTERM');
      assert.deepEqual(await withinMs(15_000, 'exit', child.exited), { code: 0, signal: null });
      return {
        seed: options.seed,
        kills: options.kills,
        sent: sends,
        acknowledged,
        acknowledged_ids: acked.size,
        lost: 0,
        unanswered_at_kill: unanswered,
        stored_without_ack: storedWithoutAck,
        rows,
        non_200_answers: non200,
      };
    }

    const pool = createPool(child.port, CONNECTIONS);
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed) {
        let m: Sent;
        if (sentIds.length > 0 && rng.chance(options.duplicateRatio)) m = sent.get(rng.pick(sentIds)) as Sent;
        else {
          m = makeMessage(rng, (seq += 1), options.duplicateRatio > 0 ? 'dup' : 'crash');
          sent.set(m.parsed.message_id, m);
          sentIds.push(m.parsed.message_id);
        }
        sends += 1;
        const res = await pool.send('POST', '/webhook', m.body, { 'Content-Type': 'application/json', 'X-Signature': sign(CRASH_SECRET, m.body) });
        if (res.status === 200) {
          acknowledged += 1;
          acked.add(m.parsed.message_id);
        } else if (res.status === 0) unanswered += 1;
        else non200 += 1;
      }
    };
    const workers = Array.from({ length: CONNECTIONS }, () => worker());
    await sleep(rng.int(40, 400));
    killed = true; // no new requests; the ones on the wire are cut off by the kill
    child.proc.kill('SIGKILL');
    await withinMs(15_000, 'the killed service to exit', child.exited);
    const log = child.output();
    assert.ok(!log.includes(CRASH_SECRET) && !log.includes('CRASH-TEXT'), 'the secret or a message text is in the log');
    await withinMs(15_000, 'the load to stop', Promise.all(workers));
    pool.close();
  }
  throw new Error('unreachable');
}

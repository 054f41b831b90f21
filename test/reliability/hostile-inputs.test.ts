// At least 10,000 seeded hostile requests against the real service (a child process running
// src/main.ts): each gets a status SPEC.md names and never a 5xx, the service stays ready, nothing
// is stored but the valid signed deliveries (exactly as sent), its peak RSS stays bounded, and
// neither a secret nor any message text reaches a log line or a /webhook answer. A quarter of the
// cases exercise the senders' schemes and the WhatsApp route (hostile-senders.ts).
// The seed is printed; RELIABILITY_SEED replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startChildService, withinMs } from '../helpers/child-service.ts';
import { reportFigures } from '../helpers/figures.ts';
import { createPool } from '../helpers/http-client.ts';
import { rawSend } from '../helpers/raw-send.ts';
import { createRandom, seedFromEnv } from '../helpers/seeded.ts';
import { tempDir } from '../helpers/service.ts';
import { HOSTILE_SECRET, TEXT_MARK, type HostileCase, type Row } from './hostile-cases.ts';
import { generateAnyCase, SENDER_ENV, SENDER_SECRETS } from './hostile-senders.ts';

const CASES = 10_000;
const WORKERS = 16;
const RSS_LIMIT = 320 * 1024 * 1024;

type Answer = { status: number; body: string };

test(`${CASES} seeded hostile requests: the right status, never a 5xx, nothing stored but valid signed messages`, { timeout: 240_000 }, async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`seed ${seed} (RELIABILITY_SEED=${seed} replays it)`);
  const rng = createRandom(seed);
  const cases: HostileCase[] = Array.from({ length: CASES }, () => generateAnyCase(rng));

  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'hostile.db');
  const child = await startChildService(t, { WEBHOOK_SECRET: HOSTILE_SECRET, DATABASE_URL: dbPath, ...SENDER_ENV });
  const pool = createPool(child.port, WORKERS);
  t.after(() => pool.close());

  const send = async (c: HostileCase): Promise<Answer> => {
    const r = c.request;
    if ('raw' in r) return rawSend(child.port, r.raw, { halfClose: r.halfClose === true });
    const res = await pool.send(r.method, r.path, r.body, r.headers);
    return { status: res.status, body: 'body' in res ? res.body : `connection error: ${res.error}` };
  };

  const wrong: string[] = [];
  const byStatus = new Map<number, number>();
  const byFamily = new Map<string, number>();
  let fiveXx = 0;
  let webhookAnswerLeaks = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const index = next;
      next += 1;
      const c = cases[index] as HostileCase;
      const answer = await send(c);
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
      byFamily.set(c.family, (byFamily.get(c.family) ?? 0) + 1);
      if (answer.status >= 500) fiveXx += 1;
      if (!c.expect.includes(answer.status) && wrong.length < 20) {
        const shown = 'raw' in c.request ? c.request.raw.subarray(0, 300).toString('latin1') : `${c.request.method} ${c.request.path.slice(0, 200)} ${JSON.stringify(c.request.headers).slice(0, 200)} ${c.request.body?.subarray(0, 200).toString('latin1') ?? ''}`;
        wrong.push(`case ${index} (${c.family}): got ${answer.status} ${answer.body.slice(0, 200)}, expected ${c.expect.join('/')}\n  ${shown}`);
      }
      // Raw requests count unless they ask another route (GET http://host/messages reads the list).
      const isWebhook = 'raw' in c.request ? !/^GET /.test(c.request.raw.toString('latin1')) : c.request.path.startsWith('/webhook');
      if (isWebhook && (answer.body.includes(TEXT_MARK) || [HOSTILE_SECRET, ...SENDER_SECRETS].some((s) => answer.body.includes(s)))) webhookAnswerLeaks += 1;
      if (index % 1000 === 999) {
        const ready = await pool.send('GET', '/health/ready');
        assert.equal(ready.status, 200, `not ready after case ${index}`);
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: WORKERS }, () => worker()));
  const elapsedMs = Date.now() - started;

  assert.deepEqual(wrong, [], 'answers with a status the contract does not name');
  assert.equal(fiveXx, 0, '5xx answers');
  assert.equal(webhookAnswerLeaks, 0, 'a /webhook answer echoed a message text or the secret');
  const ready = await pool.send('GET', '/health/ready');
  assert.equal(ready.status, 200);
  assert.equal(child.proc.exitCode, null, 'the service is still running');

  // Exactly the valid signed deliveries are stored, each as sent.
  const expected = new Map<string, Row>();
  for (const c of cases) for (const row of [...(c.stores === undefined ? [] : [c.stores]), ...(c.storesAll ?? [])]) expected.set(row.message_id, row);
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const rows = db.prepare('SELECT message_id, from_msisdn AS "from", to_msisdn AS "to", ts, text FROM messages').all().map((r) => ({ ...r }) as Row);
  db.close();
  assert.equal(rows.length, expected.size, 'rows stored vs valid signed deliveries');
  for (const row of rows) assert.deepEqual(row, expected.get(row.message_id), `stored row ${row.message_id}`);

  const peakRss = child.peakRss();
  if (peakRss !== undefined) assert.ok(peakRss < RSS_LIMIT, `peak RSS ${peakRss} bytes`);

  child.proc.kill('SIGTERM');
  assert.deepEqual(await withinMs(15_000, 'exit', child.exited), { code: 0, signal: null });
  const log = child.output();
  assert.ok(!log.includes(HOSTILE_SECRET), 'the secret is in the log');
  for (const secret of SENDER_SECRETS) assert.ok(!log.includes(secret), 'a sender secret or the verify token is in the log');
  assert.ok(!log.includes(TEXT_MARK), 'a message text is in the log');
  assert.ok(!/"level":"error"/.test(log), 'an error line in the log');

  reportFigures(t, 'hostile-inputs', {
    seed,
    cases: CASES,
    elapsed_ms: elapsedMs,
    five_xx: fiveXx,
    stored: rows.length,
    peak_rss_mib: peakRss === undefined ? null : Math.round(peakRss / 1048576),
    statuses: Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])),
    families: Object.fromEntries(byFamily),
  });
});

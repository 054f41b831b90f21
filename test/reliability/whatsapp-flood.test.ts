// A flood of 3 MiB WhatsApp envelopes from many connections against the real service (a child
// process): unsigned, badly signed, streamed without Content-Length, over the limit, and signed
// ones that are parsed and stored. Memory stays bounded (the route's byte budget refuses what does
// not fit with 503 "server busy" before reading it), no 5xx but that refusal, nothing stored from
// an unsigned or badly signed body, and the service is ready and serves a full envelope after.
// The service runs as the image runs it (compiled, the Dockerfile's node settings, the heap node
// sizes from the Kubernetes manifest's memory limit: test/helpers/image-service.ts), and its peak
// RSS must stay under that limit: parsing signed 3 MiB envelopes must not run that heap out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { withinMs } from '../helpers/child-service.ts';
import { reportFigures } from '../helpers/figures.ts';
import { createPool } from '../helpers/http-client.ts';
import { buildDist, startImageService } from '../helpers/image-service.ts';
import { tempDir } from '../helpers/service.ts';
import { envelope, messagesChange, metaSignature, textMessage } from '../helpers/whatsapp.ts';

const SECRET = 'flood-app-secret-52c1';
const LIMIT = 3 * 1024 * 1024;
const CONNECTIONS = 256;
const ROUNDS = 3;
const TEXT_MARK = 'FLOOD-TEXT-u8e2';

/** A Meta-shaped envelope padded to `size` bytes with trailing whitespace (still valid JSON). */
function paddedEnvelope(messages: Record<string, unknown>[], size: number): Buffer {
  const json = JSON.stringify(envelope([messagesChange(messages)]));
  assert.ok(Buffer.byteLength(json) <= size, `${Buffer.byteLength(json)} > ${size}`);
  return Buffer.from(json + ' '.repeat(size - Buffer.byteLength(json)));
}

test(`${CONNECTIONS} connections flooding 3 MiB envelopes: bounded memory, no 5xx but "server busy", nothing unsigned stored`, { timeout: 240_000 }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'flood.db');
  const { svc: child, settings } = await startImageService(t, buildDist(t), { WEBHOOK_SECRET: 'unused', WHATSAPP_APP_SECRET: SECRET, DATABASE_URL: dbPath });
  // Under the image's settings the peak was 184–191 MiB (a 51 MiB heap); run from src/main.ts with
  // the machine's heap, 265–322 MiB; without the route's byte budget this flood passes 1 GiB.
  const rssLimit = settings.memoryLimitMiB * 1024 * 1024;
  const pool = createPool(child.port, CONNECTIONS, 60_000);
  t.after(() => pool.close());
  const baseRss = child.peakRss();

  // 700 messages of about 4 KB: a real 3 MiB envelope, parsed and inserted on every signed POST.
  const messages = Array.from({ length: 700 }, (_, i) => textMessage(`${TEXT_MARK} ${i} `.padEnd(4000, 'm')));
  const signedBody = paddedEnvelope(messages, LIMIT - 64);
  const unsignedBody = paddedEnvelope([textMessage(`${TEXT_MARK} unsigned`)], LIMIT - 64);
  const tooLarge = Buffer.concat([unsignedBody, Buffer.alloc(LIMIT - unsignedBody.length + 1, 0x20)]);
  // A flood connection may also be cut off with a 408 when its body does not arrive within the body
  // gate's deadline (the machine's two cores are busy pushing 768 MiB through loopback): that is the
  // slow-client rule working, not a fault, and nothing of such a body is stored.
  const kinds: { name: string; body: Buffer; headers: Record<string, string>; expect: number[] }[] = [
    { name: 'signed', body: signedBody, headers: { 'X-Hub-Signature-256': metaSignature(signedBody, SECRET) }, expect: [200, 503, 408] },
    { name: 'unsigned', body: unsignedBody, headers: {}, expect: [401, 503, 408] },
    { name: 'badly signed', body: unsignedBody, headers: { 'X-Hub-Signature-256': metaSignature(unsignedBody, 'wrong') }, expect: [401, 503, 408] },
    { name: 'streamed', body: unsignedBody, headers: { 'X-Hub-Signature-256': metaSignature(unsignedBody, 'wrong'), 'Transfer-Encoding': 'chunked' }, expect: [401, 503, 408] },
    { name: 'too large', body: tooLarge, headers: { 'X-Hub-Signature-256': metaSignature(tooLarge, SECRET) }, expect: [413] },
  ];

  const byStatus = new Map<number, number>();
  const wrong: string[] = [];
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, c) => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const kind = kinds[(c + round) % kinds.length] ?? kinds[0];
      if (kind === undefined) continue;
      const res = await pool.send('POST', '/webhook/whatsapp', kind.body, { 'Content-Type': 'application/json', ...kind.headers });
      byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      const bodyText = 'body' in res ? res.body : res.error;
      if (!kind.expect.includes(res.status) && wrong.length < 10) wrong.push(`${kind.name}: ${res.status} ${bodyText.slice(0, 100)}`);
      if (res.status === 503 && bodyText !== '{"detail":"server busy"}') wrong.push(`${kind.name}: 503 ${bodyText}`);
    }
  }));
  const elapsedMs = Date.now() - started;
  const peakRss = child.peakRss();

  assert.deepEqual(wrong, []);
  assert.ok((byStatus.get(200) ?? 0) > 0, 'some signed envelopes were stored');
  assert.ok((byStatus.get(401) ?? 0) > 0, 'unsigned ones were read and refused');
  if (peakRss !== undefined) assert.ok(peakRss < rssLimit, `peak RSS ${Math.round(peakRss / 1048576)} MiB, the limit ${settings.memoryLimitMiB} MiB`);

  // Afterwards every reservation is released: a full envelope is accepted at once.
  const after = await pool.send('POST', '/webhook/whatsapp', signedBody, { 'Content-Type': 'application/json', 'X-Hub-Signature-256': metaSignature(signedBody, SECRET) });
  assert.equal(after.status, 200);
  assert.equal((await pool.send('GET', '/health/ready')).status, 200);

  const db = new DatabaseSync(dbPath, { readOnly: true });
  const ids = db.prepare('SELECT message_id FROM messages').all().map((r) => String(r['message_id']));
  db.close();
  assert.deepEqual(new Set(ids), new Set(messages.map((m) => String(m['id']))), 'exactly the signed envelope is stored');

  child.proc.kill('SIGTERM');
  assert.deepEqual(await withinMs(15_000, 'exit', child.exited), { code: 0, signal: null });
  const log = child.output();
  assert.ok(!log.includes(TEXT_MARK), 'a message text in the log');
  assert.ok(!log.includes(SECRET), 'the app secret in the log');
  // The 503 "server busy" access lines are level error (a 5xx); nothing else may be.
  const errors = child.lines().filter((l) => l['level'] === 'error' && !(l['status'] === 503 && l['result'] === 'overloaded'));
  assert.deepEqual(errors, [], 'error lines in the log');

  reportFigures(t, 'whatsapp-flood', {
    connections: CONNECTIONS,
    requests: CONNECTIONS * ROUNDS,
    body_mib: 3,
    elapsed_ms: elapsedMs,
    statuses: Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])),
    node_args: settings.nodeArgs,
    memory_limit_mib: settings.memoryLimitMiB,
    rss_at_start_mib: baseRss === undefined ? null : Math.round(baseRss / 1048576),
    peak_rss_mib: peakRss === undefined ? null : Math.round(peakRss / 1048576),
  });
});

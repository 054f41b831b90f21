// WEBHOOK_SECRET_FILE on the real entry point: the secret comes from the file, read once at start
// (changing or removing the file later changes nothing until a restart), and it is in neither the
// process environment nor the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '../../src/webhook/signature.ts';
import { spawnChild } from '../helpers/child-service.ts';
import { message } from '../helpers/service.ts';

const SECRET = 'File-Borne-S3cret-4d2b';

test('WEBHOOK_SECRET_FILE: read once at start, never in the environment or the logs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-secret-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secretPath = join(dir, 'webhook_secret');
  writeFileSync(secretPath, `${SECRET}\n`);
  const child = spawnChild(t, { WEBHOOK_SECRET_FILE: secretPath, DATABASE_URL: join(dir, 'app.db'), PORT: '0', HOST: '127.0.0.1' });
  const listening = await child.waitFor('the listening line', (l) => l['msg'] === 'listening');
  assert.equal(listening['secret_configured'], true);
  const base = `http://127.0.0.1:${String(listening['port'])}`;

  // The file changes and then goes away: the service keeps the secret it read at start.
  writeFileSync(secretPath, 'a-different-secret\n');
  rmSync(secretPath);
  const post = async (secret: string, id: string): Promise<number> => {
    const body = JSON.stringify(message({ message_id: id }));
    const res = await fetch(`${base}/webhook`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Signature': sign(secret, body) } });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await post(SECRET, 'signed-with-the-file-secret'), 200);
  assert.equal(await post('a-different-secret', 'signed-with-the-new-text'), 401);
  assert.equal((await fetch(`${base}/health/ready`)).status, 200);

  const environ = `/proc/${child.proc.pid}/environ`;
  if (existsSync(environ)) {
    const text = readFileSync(environ, 'latin1');
    assert.ok(text.includes(`WEBHOOK_SECRET_FILE=${secretPath}`));
    assert.ok(!text.includes(SECRET), 'the secret is not in the process environment');
  }
  child.proc.kill('SIGTERM');
  assert.deepEqual(await child.waitExit(), { code: 0, signal: null });
  assert.ok(!`${child.stdout()}${child.stderr()}`.includes(SECRET));
});

test('WEBHOOK_SECRET_FILE naming a missing file stops the start with exit 2, naming neither path nor secret', async (t) => {
  const child = spawnChild(t, { WEBHOOK_SECRET_FILE: `/nonexistent/${SECRET}`, DATABASE_URL: ':memory:', PORT: '0' });
  assert.deepEqual(await child.waitExit(), { code: 2, signal: null });
  assert.match(child.stderr(), /^\{[^\n]*"msg":"invalid configuration: WEBHOOK_SECRET_FILE: cannot read the file it names \(ENOENT\)"\}\n$/);
  assert.ok(!child.stderr().includes(SECRET) && !child.stderr().includes('nonexistent'));
});
